import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def one_torch_thread():
    """These tiny models gain nothing from threads, and on the shared 2-core machine an OpenMP
    barrier waiting for a descheduled thread makes each call ~10× slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
