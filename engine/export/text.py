"""Safe bits of generated Python source: class names and comments from user text.

Labels, project names and file names are user data; in generated code they appear only in
comments, reduced to one line of printable characters, so no text can end the comment and
become code.
"""
from __future__ import annotations

import keyword
import re
import unicodedata

_MAX_COMMENT = 120


def comment_text(text: str, limit: int = _MAX_COMMENT) -> str:
    """One line of printable characters (no control, format or line/paragraph separators)."""
    out = []
    for ch in str(text):
        cat = unicodedata.category(ch)
        out.append(" " if cat[0] in "CZ" and ch != " " else ch)  # Cc Cf Cs Co Cn, Zl Zp (and odd spaces)
    line = re.sub(r"\s+", " ", "".join(out)).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def class_name(project_name: str) -> str:
    """"LeNet-5 on shapes" → "LeNet5OnShapes"; ASCII letters and digits only, never a keyword."""
    text = unicodedata.normalize("NFKD", str(project_name)).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", text)
    name = "".join(w[0].upper() + w[1:] for w in words)[:64]
    if not name or not name[0].isalpha():
        name = "Net" + name
    if keyword.iskeyword(name) or name in ("None", "True", "False"):
        name += "Net"
    return name
