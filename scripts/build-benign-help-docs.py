"""Build data/curation/benign-help-docs/ from two public documentation repositories.

A benign corpus without names for the PII stage's precision (issue 13): help and how-to
articles of Syncthing (syncthing/docs, reStructuredText, CC BY 4.0) and Hugo
(gohugoio/hugoDocs, Markdown, Apache-2.0), cut into two-turn conversations: a short question
made from the article title, then 300-600 words of the article as plain text (markup, links,
front matter and shortcodes stripped; code blocks kept as plain text).

Paragraphs that hold a person's name (real, or invented for an example such as "Alice"), a
GitHub handle, an e-mail address, a phone number, a street address or an IP address literal
are dropped (the lists below were made by reading every kept paragraph); nothing is dropped
or edited because the PII stage flags it. The counts go to SOURCE.txt.

    python scripts/build-benign-help-docs.py SYNCTHING_GIT_DIR HUGO_GIT_DIR

Each argument is a git directory (a fetched mirror, bare or not) holding the pinned commit;
the output is byte-identical on every run.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "data" / "curation" / "benign-help-docs"
MIN_WORDS, MAX_WORDS = 300, 600  # assistant text per conversation, counted as \w+ runs
ORIGIN_WORDS = 13_000  # per upstream, whole conversations (question included), \w+ runs
WORD = re.compile(r"\w+")

# --- What is dropped (found by reading) -------------------------------------------------------
# user@host.tld, also as a login (ssh, scp, LDAP bind pattern); not a systemd unit
# (syncthing@user.service) nor a Go module version (module@v1.2.0)
EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.(?!service\b)[A-Za-z]{2,}\b")
IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w])")
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
# Invented people of examples ("if Alice has versioning turned on and Bob changes a file").
EXAMPLE_PEOPLE = re.compile(
    r"\b(?:Alice|Bob|Carol|Charlie|Dave|Eve|Mallory|John|Jane|Doe|jsmith|rjones)\b"
)
# Real people: maintainers, hosts of public servers, authors credited by name or handle.
REAL_PEOPLE = re.compile(
    r":user:`|/Users/jb\b"
    r"|\b(?:calmh|Jakob Borg|bep|Bjørn Erik Pedersen|theincogtion|mfrnd|heirecka)\b"
    r"|\b(?:Bruce Willis|Samuel L\. Jackson|Shyamalan|Bill Murray|Wes Anderson)\b"
)


def _ipv6(text: str) -> bool:
    return any(
        "::" in m.group() or (m.group().count(":") >= 5 and re.search(r"[a-fA-F]", m.group()))
        for m in IPV6.finditer(text)
    )


def removal_reason(text: str) -> str | None:
    """Why a paragraph (or code block) is left out, or None to keep it."""
    if REAL_PEOPLE.search(text):
        return "real person's name or handle"
    if EXAMPLE_PEOPLE.search(text):
        return "invented person's name in an example"
    if EMAIL.search(text):
        return "e-mail address or user@host login"
    if IPV4.search(text) or _ipv6(text):
        return "IP address literal"
    return None


# --- Documents ---------------------------------------------------------------------------------
@dataclass
class Block:
    kind: str  # "heading", "text", "code"
    text: str


@dataclass
class Doc:
    path: str
    title: str
    blocks: list[Block]


@dataclass
class Upstream:
    origin: str
    short: str
    product: str
    commit: str
    licence: str
    paths: tuple[str, ...]
    parse: Callable[[str, str, dict[str, str]], Doc]
    dropped: dict[str, int] = field(default_factory=dict)


def git_show(git_dir: str, commit: str, path: str) -> str:
    out = subprocess.run(
        ["git", "--git-dir", git_dir, "show", f"{commit}:{path}"],
        check=True,
        capture_output=True,
    )
    return out.stdout.decode("utf-8")


def git_paths(git_dir: str, commit: str) -> list[str]:
    out = subprocess.run(
        ["git", "--git-dir", git_dir, "ls-tree", "-r", "--name-only", commit],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.splitlines()


def squash(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text).strip()


# --- reStructuredText (Syncthing) ------------------------------------------------------------
ADORNMENT = re.compile(r"^([=\-~^\"'`#*+.:_])\1{2,}\s*$")
DIRECTIVE = re.compile(r"^\.\.\s+([\w:-]+)::\s*(.*)$")
LIST_ITEM = re.compile(r"^(?:[-*+]|\d+\.|#\.|\(\d+\))\s+")
SIMPLE_TABLE = re.compile(r"^=+(?:\s+=+)+\s*$")
ROLE = re.compile(r"(?::[\w-]+)+:`([^`]+)`")
ADMONITIONS = {"note": "Note", "warning": "Warning", "tip": "Tip", "important": "Important"}
VERSIONS = {
    "versionadded": "New in version",
    "versionchanged": "Changed in version",
    "deprecated": "Deprecated since version",
}
CODE_DIRECTIVES = {"code-block", "code", "sourcecode"}
OPTION_DIRECTIVES = {"option", "cmdoption"}


def rst_labels(git_dir: str, commit: str) -> dict[str, str]:
    """Sphinx :ref: labels and :doc: paths -> the title they render as."""
    labels: dict[str, str] = {}
    for path in git_paths(git_dir, commit):
        if not path.endswith(".rst"):
            continue
        lines = git_show(git_dir, commit, path).splitlines()
        pending: list[str] = []
        doc_title = ""
        for i, line in enumerate(lines):
            m = re.match(r"^\.\.\s+_([^:`]+):\s*$", line)
            if m:
                pending.append(m.group(1).strip().lower())
                continue
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if line.strip() and not line[0].isspace() and ADORNMENT.match(nxt):
                if len(nxt.strip()) >= len(line.strip()) and not ADORNMENT.match(line):
                    for label in pending:
                        labels[label] = line.strip()
                    pending = []
                    doc_title = doc_title or line.strip()
            elif line.strip() and not ADORNMENT.match(line):
                pending = []
        labels["doc:/" + path.removesuffix(".rst")] = doc_title
    return labels


def _protect(
    text: str, pattern: str, render: Callable[[re.Match[str]], str]
) -> tuple[str, list[str]]:
    """Swap what `pattern` matches for markers so that escapes and emphasis leave it alone."""
    kept: list[str] = []

    def swap(m: re.Match[str]) -> str:
        kept.append(render(m))
        return f"\x00{len(kept) - 1}\x00"

    return re.sub(pattern, swap, text), kept


def _restore(text: str, kept: list[str]) -> str:
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)


def rst_inline(text: str, labels: dict[str, str], doc_dir: str) -> str:
    text = re.sub(r"\s*\[#[\w-]*\]_", "", text)  # footnote references

    def role(m: re.Match[str]) -> str:
        name = m.group(0).split("`")[0]
        body = m.group(m.lastindex or 1)
        shown = re.match(r"^(.*?)\s*<([^>]+)>$", body, re.S)
        if shown:
            return shown.group(1)
        if name.endswith(":doc:"):
            target = body if body.startswith("/") else f"/{doc_dir}/{body}"
            return labels.get("doc:" + target, body.rsplit("/", 1)[-1])
        if name.endswith(":ref:"):
            return labels.get(body.lower(), body)
        if body.startswith("~"):
            return body[1:].rsplit(".", 1)[-1]
        return body

    text, kept = _protect(text, r"``(.+?)``|" + ROLE.pattern, lambda m: m.group(1) or role(m))
    text = re.sub(r"`([^`<]+?)\s*<[^>]+>`__?", r"\1", text)  # `text <url>`_
    text = re.sub(r"`([^`]+)`_{0,2}", r"\1", text)  # `name`_, `default role`
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    text = re.sub(r"\|br\|", " ", text)
    text = re.sub(r"\\(.)", r"\1", text.replace("\\ ", ""))
    return squash(_restore(text, kept))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _take_indented(lines: list[str], i: int) -> tuple[list[str], int]:
    """The indented (or blank) lines from i on, dedented, and the index after them."""
    body: list[str] = []
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > 0):
        body.append(lines[i])
        i += 1
    while body and not body[-1].strip():
        body.pop()
    return textwrap.dedent("\n".join(body)).splitlines(), i


def rst_blocks(lines: list[str], labels: dict[str, str], doc_dir: str) -> list[Block]:
    out: list[Block] = []

    def text(value: str) -> None:
        value = rst_inline(value, labels, doc_dir)
        if value:
            out.append(Block("text", value))

    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if ADORNMENT.match(line) and i + 2 < len(lines) and ADORNMENT.match(lines[i + 2]):
            out.append(Block("heading", squash(nxt)))  # overlined title
            i += 3
            continue
        if (
            _indent(line) == 0
            and ADORNMENT.match(nxt)
            and not ADORNMENT.match(line)
            and len(nxt.strip()) >= len(line.strip())
        ):
            out.append(Block("heading", rst_inline(line, labels, doc_dir)))
            i += 2
            continue
        if SIMPLE_TABLE.match(line):
            i += 1
            rows: list[str] = []
            while i < len(lines) and lines[i].strip():
                if not SIMPLE_TABLE.match(lines[i]):
                    cells = [c for c in re.split(r"\s{2,}", lines[i].strip()) if c != "\\"]
                    rows.append(" | ".join(rst_inline(c, labels, doc_dir) for c in cells))
                i += 1
            out.append(Block("text", "\n".join(rows)))
            continue
        if line.startswith(".."):
            m = DIRECTIVE.match(line)
            body, i = _take_indented(lines, i + 1)
            if not m:
                continue  # comment, target, footnote or substitution definition
            name, arg = m.group(1), m.group(2).strip()
            while body and re.match(r"^:[\w-]+:", body[0]):  # directive options
                body.pop(0)
            if name in CODE_DIRECTIVES:
                code = "\n".join(body).strip("\n")
                if code:
                    out.append(Block("code", code))
            elif name in ADMONITIONS:
                inner = rst_blocks([arg, *body] if arg else body, labels, doc_dir)
                label = ADMONITIONS[name]
                if inner and inner[0].kind == "text" and not inner[0].text.startswith(label):
                    inner[0].text = f"{label}: {inner[0].text}"
                out.extend(inner)
            elif name in VERSIONS:
                out.append(Block("text", f"{VERSIONS[name]} {arg}."))
                out.extend(rst_blocks(body, labels, doc_dir))
            elif name in OPTION_DIRECTIVES:
                out.append(Block("text", squash(arg)))
                out.extend(rst_blocks(body, labels, doc_dir))
            continue  # image, figure, toctree, include, graphviz, seealso, todo...: dropped
        if _indent(line) > 0:  # block quote
            body, i = _take_indented(lines, i)
            out.extend(rst_blocks(body, labels, doc_dir))
            continue
        if LIST_ITEM.match(line):
            items: list[str] = []
            number = 0
            while i < len(lines) and LIST_ITEM.match(lines[i]):
                marker = LIST_ITEM.match(lines[i])
                assert marker is not None
                first = lines[i][marker.end() :]
                body, i = _take_indented(lines, i + 1)
                inner = rst_blocks([first, *body], labels, doc_dir)
                number += 1
                bullet = "- " if marker.group().strip() in "-*+" else f"{number}. "
                for k, b in enumerate(inner):
                    if b.kind == "code":  # a code block inside an item splits the list
                        if items:
                            out.append(Block("text", "\n".join(items)))
                        out.append(b)
                        items = []
                    else:
                        items.append((bullet if k == 0 else "  ") + b.text.replace("\n", " "))
                while i < len(lines) and not lines[i].strip():
                    i += 1
            if items:
                out.append(Block("text", "\n".join(items)))
            continue
        para: list[str] = []
        while i < len(lines) and lines[i].strip() and _indent(lines[i]) == 0:
            para.append(lines[i])
            i += 1
        if all(p.startswith("| ") or p == "|" for p in para):  # line block
            out.append(Block("code", "\n".join(rst_inline(p[2:], labels, doc_dir) for p in para)))
            continue
        if i < len(lines) and lines[i].strip() and _indent(lines[i]) > 0:  # definition list
            body, i = _take_indented(lines, i)
            inner = rst_blocks(body, labels, doc_dir)
            term = rst_inline(" ".join(para), labels, doc_dir)
            if inner and inner[0].kind == "text" and "\n" not in inner[0].text:
                inner[0].text = f"{term}: {inner[0].text}"
            else:
                out.append(Block("text", term))
            out.extend(inner)
            continue
        joined = " ".join(para)
        if joined.rstrip().endswith("::"):
            stripped = joined.rstrip()[:-2]
            text(stripped if stripped.endswith(" ") or not stripped else stripped + ":")
            while i < len(lines) and not lines[i].strip():
                i += 1
            body, i = _take_indented(lines, i)
            code = "\n".join(body).strip("\n")
            if code:
                out.append(Block("code", code))
            continue
        text(joined)
    return out


def parse_rst(path: str, source: str, labels: dict[str, str]) -> Doc:
    blocks = rst_blocks(source.splitlines(), labels, path.rsplit("/", 1)[0])
    title = next(b.text for b in blocks if b.kind == "heading")
    blocks.remove(next(b for b in blocks if b.kind == "heading"))
    return Doc(path, title, [b for b in blocks if b.text.strip()])


# --- Markdown (Hugo) ---------------------------------------------------------------------------
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
SHORTCODE = re.compile(r"\{\{[<%]\s*(/?)\s*([\w-]+)([^}]*?)/?\s*[>%]\}\}")
TABLE_RULE = re.compile(r"^\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)+\|?$")
MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*(?:\{[^}]*\})?\s*$")


def md_inline(text: str) -> str:
    text, kept = _protect(text, r"`([^`]+)`", lambda m: m.group(1))
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = SHORTCODE.sub("", text)
    text = text.replace(":heavy_check_mark:", "yes").replace(":x:", "no")
    text = re.sub(r"\s*\[\^\w+\]:?", "", text)  # footnote references and labels
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # [text](url)
    text = re.sub(r"\[([^\]]+)\]\[[^\]]*\]", r"\1", text)  # [text][ref], [text][]
    text = re.sub(r"</?[a-zA-Z][^>]*>", "", text)  # html tags
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?![\w_])", r"\1", text)
    text = re.sub(r"\{[.#][^}]*\}", "", text)  # attribute lists
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>])", r"\1", html.unescape(text))
    return squash(_restore(text, kept))


def md_code(lines: list[str]) -> str:
    code = textwrap.dedent("\n".join(lines)).strip("\n")
    return re.sub(r"\{\{([<%])/\*\s*(.*?)\s*\*/([>%])\}\}", r"{{\1 \2 \3}}", code)


def parse_md(path: str, source: str, _labels: dict[str, str]) -> Doc:
    lines = source.splitlines()
    title = ""
    if lines and lines[0].strip() in ("---", "+++"):
        end = lines.index(lines[0].strip(), 1)
        for fm in lines[1:end]:
            m = re.match(r"^title\s*[:=]\s*(.*)$", fm)
            if m:
                title = m.group(1).strip().strip("'\"")
        lines = lines[end + 1 :]
    blocks: list[Block] = []
    para: list[str] = []
    pending_label = [""]  # "Note:" of a > [!note] admonition, put before its first line

    def flush() -> None:
        items: list[str] = []
        number = 0
        table = any(TABLE_RULE.match(raw.strip()) for raw in para)
        for raw in para:
            line = raw.strip()
            if TABLE_RULE.match(line):
                continue
            if table:
                line = " | ".join(c.strip() for c in line.strip("|").split("|"))
            elif line.startswith(": ") and items:  # definition list
                items[-1] = f"{items[-1]}: {md_inline(line[2:])}"
                continue
            starts_item = re.match(r"^(?:[-*+]|\d+\.)\s+", line)
            if items and not starts_item and not table and not items[-1].endswith(":"):
                items[-1] = f"{items[-1]} {md_inline(line)}"
                continue
            if re.match(r"^\[[^\]]+\]:\s*\S+", line):  # link reference definition
                continue
            line = re.sub(r"^[-*+]\s+", "- ", line)
            if re.match(r"^\d+\.\s", line):  # Markdown lets every item be "1."
                number += 1
                line = re.sub(r"^\d+\.", f"{number}.", line)
            items.append(md_inline(line))
        value = "\n".join(i for i in items if i)
        if value.strip():
            blocks.append(Block("text", value))
        para.clear()

    def code_block(i: int, closes: re.Pattern[str]) -> int:
        """The code from line i + 1 up to the closing line; the index after it."""
        flush()
        j = i + 1
        while j < len(lines) and not closes.search(lines[j]):
            j += 1
        code = md_code(lines[i + 1 : j])
        if code:
            blocks.append(Block("code", code))
        return j + 1

    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if fence:
            mark = fence.group(2)
            i = code_block(i, re.compile(rf"^\s*{re.escape(mark[0])}{{{len(mark)},}}\s*$"))
            continue
        sc = SHORTCODE.match(line.strip())
        if sc and sc.group(2) == "code-toggle" and not line.strip().endswith("/>}}"):
            i = code_block(i, re.compile(r"\{\{<\s*/\s*code-toggle"))
            continue
        heading = MD_HEADING.match(line)
        if heading:
            flush()
            blocks.append(Block("heading", md_inline(heading.group(2))))
            i += 1
            continue
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith(">"):
            quoted = stripped.lstrip(">").strip()
            m = re.match(r"^\[!(\w+)\]\s*(.*)$", quoted)
            if m:
                flush()
                label = m.group(1).capitalize() + ":"
                if m.group(2):
                    para.append(f"{label} {m.group(2)}")
                else:
                    pending_label[0] = label
            elif quoted:
                if pending_label[0]:
                    quoted = f"{pending_label[0]} {quoted}"
                    pending_label[0] = ""
                para.append(quoted)
            else:
                flush()
        else:
            para.append(line)
        i += 1
    flush()
    return Doc(path, title, [b for b in blocks if b.text.strip()])


# --- Conversations -----------------------------------------------------------------------------
def words(text: str) -> int:
    return len(WORD.findall(text))


def split_long(block: Block) -> list[Block]:
    if words(block.text) <= MAX_WORDS:
        return [block]
    unit = "\n" if block.kind == "code" or "\n" in block.text else " "
    parts: list[Block] = []
    cur: list[str] = []
    for piece in block.text.split(unit):
        if cur and words(unit.join([*cur, piece])) > MAX_WORDS:
            parts.append(Block(block.kind, unit.join(cur)))
            cur = []
        cur.append(piece)
    parts.append(Block(block.kind, unit.join(cur)))
    return parts


def chunks(doc: Doc) -> Iterator[tuple[str, list[Block]]]:
    """(heading of the section it starts in, blocks) with MIN..MAX words each where possible."""
    sections: list[tuple[str, list[Block]]] = [("", [])]
    for b in doc.blocks:
        if b.kind == "heading":
            sections.append((b.text, [b]))
        else:
            sections[-1][1].extend(split_long(b))
    out: list[tuple[str, list[Block]]] = []
    cur: list[Block] = []
    cur_heading = ""
    for heading, blocks in sections:
        if not [b for b in blocks if b.kind != "heading"]:
            continue  # a heading whose paragraphs were all dropped
        size = sum(words(b.text) for b in blocks)
        have = sum(words(b.text) for b in cur)
        if cur and have >= MIN_WORDS and have + size > MAX_WORDS:
            out.append((cur_heading, cur))
            cur = []
        if not cur:
            cur_heading = heading
        for b in blocks:
            have = sum(words(x.text) for x in cur)
            if cur and have >= MIN_WORDS and have + words(b.text) > MAX_WORDS:
                out.append((cur_heading, cur))
                cur, cur_heading = [], heading
            cur.append(b)
    if cur:
        out.append((cur_heading, cur))
    while len(out) > 1 and sum(words(b.text) for b in out[-1][1]) < MIN_WORDS:
        last = out.pop()
        prev = out.pop()
        if sum(words(b.text) for b in prev[1] + last[1]) <= MAX_WORDS + 50:
            out.append((prev[0], prev[1] + last[1]))
        else:
            out.extend([prev, last])
            break
    for heading, blocks in out:
        if sum(words(b.text) for b in blocks) >= 150:
            yield heading, blocks


QUESTIONS = (
    "Can you explain {t}?",
    "What should I know about {t}?",
    "I need help with {t}.",
    "Where do I start with {t}?",
)


TITLES = {  # titles too bare to make a question of
    "content/en/installation/linux.md": "installing Hugo on Linux",
    "content/en/installation/windows.md": "installing Hugo on Windows",
    "intro/gui.rst": "the Syncthing web GUI",
}


def question(up: Upstream, doc: Doc, heading: str, first: bool, n: int) -> str:
    title = TITLES.get(doc.path, doc.title)
    title = title if up.product.lower() in doc.title.lower() else f"{doc.title} in {up.product}"
    if heading.endswith("?"):
        return heading if up.product.lower() in heading.lower() else f"{up.product}: {heading}"
    if first or not heading or heading == doc.title:
        return QUESTIONS[n % len(QUESTIONS)].format(t=title)
    return f"{title}: what about {heading}?"


def render(blocks: list[Block]) -> str:
    return "\n\n".join(b.text for b in blocks)


def build(up: Upstream, git_dir: str) -> list[dict[str, Any]]:
    labels = rst_labels(git_dir, up.commit) if up.parse is parse_rst else {}
    rows: list[dict[str, Any]] = []
    total = 0
    for path in up.paths:
        doc = up.parse(path, git_show(git_dir, up.commit, path), labels)
        kept: list[Block] = []
        for b in doc.blocks:
            reason = removal_reason(b.text) if b.kind != "heading" else None
            if reason:
                up.dropped[reason] = up.dropped.get(reason, 0) + 1
            else:
                kept.append(b)
        up.dropped["paragraphs seen"] = up.dropped.get("paragraphs seen", 0) + sum(
            b.kind != "heading" for b in doc.blocks
        )
        doc.blocks = kept
        for k, (heading, blocks) in enumerate(chunks(doc)):
            user = question(up, doc, heading, k == 0, len(rows))
            assistant = render(blocks)
            rows.append(
                {
                    "id": f"bhd-{up.short}-{len(rows) + 1:03d}",
                    "origin": up.origin,
                    "path": path,
                    "messages": [
                        {"role": "user", "content": user},
                        {"role": "assistant", "content": assistant},
                    ],
                }
            )
            total += words(user) + words(assistant)
            if total >= ORIGIN_WORDS:
                return rows
    raise SystemExit(f"{up.origin}: only {total} words from the listed paths")


SYNCTHING = Upstream(
    origin="syncthing/docs",
    short="st",
    product="Syncthing",
    commit="766daa6e2b02f68dacc98eccbe49663b6168cbfd",
    licence="CC BY 4.0",
    paths=(
        "users/faq-parts/general.rst",
        "users/faq-parts/usage.rst",
        "users/faq-parts/troubleshooting.rst",
        "intro/getting-started.rst",
        "intro/gui.rst",
        "users/syncing.rst",
        "users/versioning.rst",
        "users/ignoring.rst",
        "users/foldertypes.rst",
        "users/introducer.rst",
        "users/untrusted.rst",
        "users/firewall.rst",
        "users/relaying.rst",
        "users/security.rst",
        "users/tuning.rst",
        "users/autostart.rst",
        "users/guilisten.rst",
        "users/proxying.rst",
        "users/tunneling.rst",
        "users/reverseproxy.rst",
        "users/crashrep.rst",
        "users/custom-upgrades.rst",
        "users/profiling.rst",
        "users/ldap.rst",
        "advanced/folder-ignoredelete.rst",
        "advanced/folder-uselargeblocks.rst",
        "advanced/folder-autonormalize.rst",
        "advanced/device-numconnections.rst",
    ),
    parse=parse_rst,
)

HUGO = Upstream(
    origin="gohugoio/hugoDocs",
    short="hugo",
    product="Hugo",
    commit="1c613349f4220ae84070df25979d720c43e5cfa6",
    licence="Apache-2.0",
    paths=(
        "content/en/getting-started/quick-start.md",
        "content/en/getting-started/directory-structure.md",
        "content/en/getting-started/usage.md",
        "content/en/troubleshooting/faq.md",
        "content/en/troubleshooting/performance.md",
        "content/en/troubleshooting/logging.md",
        "content/en/troubleshooting/inspection.md",
        "content/en/content-management/archetypes.md",
        "content/en/content-management/page-bundles.md",
        "content/en/content-management/sections.md",
        "content/en/content-management/summaries.md",
        "content/en/content-management/taxonomies.md",
        "content/en/content-management/syntax-highlighting.md",
        "content/en/host-and-deploy/host-on-github-pages/index.md",
        "content/en/host-and-deploy/host-on-gitlab-pages.md",
        "content/en/host-and-deploy/host-on-netlify/index.md",
        "content/en/host-and-deploy/deploy-with-rsync.md",
        "content/en/host-and-deploy/host-on-firebase.md",
        "content/en/installation/linux.md",
        "content/en/installation/windows.md",
        "content/en/templates/pagination.md",
        "content/en/templates/menu.md",
        "content/en/render-hooks/links.md",
        "content/en/render-hooks/images.md",
        "content/en/hugo-modules/use-modules.md",
    ),
    parse=parse_md,
)


SOURCE_HEAD = """\
what:     benign help / how-to documentation without names, as two-turn conversations, for
          the PII stage's precision (issue 13: placeholders per 1,000 words, share of
          conversations given one). Every placeholder the PII stage puts here is a false positive.
built by: scripts/build-benign-help-docs.py SYNCTHING_GIT_DIR HUGO_GIT_DIR (deterministic; the
          committed .gz is what tests read). Its first list of false placeholders (9.55 per
          1,000 words) was read when one rule was written (a one-word name the conversation
          also writes as a lower-case word is a program: workers/curation/pii.py
          used_as_a_word); no other PII rule was written from it. The articles are also a
          benign source of the prank models: fitted by the spam task, never fitted by the
          jailbreak task (which measures them as unseen text).
file:     conversations.jsonl.gz - one JSON a line: {id, origin, path, messages: [{role: user,
          content: a short question made from the article title or FAQ heading}, {role:
          assistant, content: the article text}]}; 300-600 words (\\w+ runs) of assistant text
          per conversation where the article's sections allow (a few 150-300 at the end of an
          article, a few up to ~740 where one section or code block is long), articles taken in
          the order below until each upstream reaches {target} words.
cleaning: reStructuredText / Markdown to plain text: front matter, headings' markup (the
          heading text stays as a line), link targets, images, roles (:ref:, :doc:, :opt: ->
          their text), directives (toctree, image, include, seealso, graphviz dropped;
          note/warning -> "Note: ..."; versionadded -> "New in version X."), Hugo shortcodes
          ({{< new-in >}}, include, glossary; code-toggle keeps its TOML), HTML tags and
          comments, emphasis, backslash escapes, footnote markers; tables -> "cell | cell"
          lines; lists keep "- " / "1. "; code blocks kept as plain text (fences dropped,
          escaped {{</* */>}} shortcodes unescaped).
removed:  a whole paragraph or code block when it holds a person's name or handle (real:
          maintainers, hosts of public servers, credited contributors, actors in an example;
          invented: Alice/Bob, John Smith, jsmith), an e-mail address or user@host login, or an
          IP address literal (127.0.0.1, 0.0.0.0, 10.20.30.40...: a type Winnow masks by design,
          so not a false positive); none was removed or edited because the PII stage flags it.
          Found by reading every kept paragraph; the patterns are in the builder. Counts below
          are over the articles read.
"""


def source_text(rows: list[dict[str, Any]]) -> str:
    out = [SOURCE_HEAD.replace("{target}", f"{ORIGIN_WORDS:,}")]
    total_words = 0
    for up in (SYNCTHING, HUGO):
        mine = [r for r in rows if r["origin"] == up.origin]
        n_words = sum(words(m["content"]) for r in mine for m in r["messages"])
        total_words += n_words
        used = list(dict.fromkeys(str(r["path"]) for r in mine))
        seen = up.dropped.get("paragraphs seen", 0)
        reasons = ", ".join(
            f"{n} {k}" for k, n in sorted(up.dropped.items()) if k != "paragraphs seen"
        )
        out.append(
            f"\norigin:   {up.origin} (https://github.com/{up.origin})\n"
            f"commit:   {up.commit}\n"
            f"licence:  {up.licence} (see LICENSE.upstream)\n"
            f"counts:   {len(mine)} conversations, {n_words:,} words; {seen} paragraphs / code"
            f" blocks read, removed: {reasons or 'none'}\n"
            "paths:    " + "\n          ".join(used) + "\n"
        )
    out.append(f"\ntotal:    {len(rows)} conversations, {total_words:,} words (\\w+ runs)\n")
    return "".join(out)


LICENSE_HEAD = """\
syncthing/docs - Creative Commons Attribution 4.0 International (CC BY 4.0)
https://creativecommons.org/licenses/by/4.0/
Attribution: text adapted from the Syncthing documentation (https://docs.syncthing.net,
https://github.com/syncthing/docs), (c) 2014- The Syncthing Authors, licensed under CC BY 4.0.
Changes: converted to plain text, cut into question / answer pairs, some paragraphs removed
(see SOURCE.txt).

gohugoio/hugoDocs - Apache License 2.0 (content/LICENSE.md of the repository, copied below)
Attribution: text adapted from the Hugo documentation (https://gohugo.io,
https://github.com/gohugoio/hugoDocs), (c) The Hugo Authors. Changes as above.

----------------------------------------------------------------------------------------------
"""


def main(argv: list[str]) -> None:
    if len(argv) != 3:
        raise SystemExit(__doc__)
    rows: list[dict[str, Any]] = []
    for up, git_dir in ((SYNCTHING, argv[1]), (HUGO, argv[2])):
        rows += build(up, git_dir)
    OUT.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    (OUT / "conversations.jsonl.gz").write_bytes(gzip.compress(body.encode("utf-8"), mtime=0))
    (OUT / "SOURCE.txt").write_text(source_text(rows), encoding="utf-8")
    apache = git_show(argv[2], HUGO.commit, "content/LICENSE.md")
    (OUT / "LICENSE.upstream").write_text(LICENSE_HEAD + apache, encoding="utf-8")
    print(source_text(rows).split("\norigin:", 1)[1])
    print("sha256 of the JSON lines", hashlib.sha256(body.encode("utf-8")).hexdigest())


if __name__ == "__main__":
    main(sys.argv)
