"""docs/project-format.md documents every setting: its generated tables match engine.schema."""
from engine.schema import DATASET_SETTINGS, TRAINING_SETTINGS
from engine.schema import docs


def test_generated_tables_are_up_to_date():
    current = docs.DOC.read_text(encoding="utf-8")
    assert docs.render(current) == current, "docs/project-format.md is out of date: run python -m engine.schema.docs"


def test_every_setting_and_graph_key_is_documented():
    text = docs.DOC.read_text(encoding="utf-8")
    for s in DATASET_SETTINGS:
        assert f"`dataset.{s.key}`" in text
    for s in TRAINING_SETTINGS:
        assert f"`training.{s.key}`" in text
    for key in ("format", "version", "name", "graph", "id", "type", "params", "pos", "label", "trainable",
                "from", "to", "port"):
        assert f"| `{key}` |" in text, key


def test_render_replaces_only_between_markers():
    text = ("intro\n<!-- generated:dataset -->\nstale\n<!-- /generated:dataset -->\nmiddle\n"
            "<!-- generated:training -->\n<!-- /generated:training -->\nend\n")
    out = docs.render(text)
    assert out.startswith("intro\n") and "\nmiddle\n" in out and out.endswith("end\n")
    assert "stale" not in out and "`training.epochs`" in out and "`dataset.source`" in out
    assert docs.render(out) == out
