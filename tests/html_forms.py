"""What a browser would submit from a form in a page, read from the page's HTML.

A small stand-in for a browser in test-client tests: the successful controls of
one `<form>` (HTML standard, "constructing the entry list"), with the value
sanitisation browsers apply to typed inputs, so a value the page draws in a
shape the browser refuses (a localised date in `type="date"`, "1,000" in
`type="number"`) is submitted empty, as it would be for a real person.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_DATE = re.compile(r"^\d{4,}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^-?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?$")
_NOT_SUBMITTED = {"submit", "button", "reset", "image", "file"}


def _sanitise(kind: str, value: str) -> str:
    """HTML's value sanitisation algorithm for the input types the app uses (a
    hidden input has none: it keeps its line breaks, as Chromium does)."""
    if kind in {"text", "search", "password", "email", "url", "tel"}:
        value = value.replace("\r", "").replace("\n", "")
        return value.strip() if kind in {"email", "url"} else value
    if kind == "date":
        return value if _DATE.match(value) else ""
    if kind == "number":
        return value if _NUMBER.match(value) else ""
    return value


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None
        # Controls outside their form, joined to it by the `form` attribute.
        self._owned: dict[str, list] = {}

    def _controls(self, attrs: dict) -> list | None:
        """Where a control goes: the form its `form` attribute names (anywhere in
        the page, resolved in `close`), else the form it sits in."""
        if attrs.get("form"):
            return self._owned.setdefault(attrs["form"], [])
        return self._form["controls"] if self._form is not None else None

    def close(self):
        super().close()
        by_id = {form["attrs"].get("id"): form for form in self.forms if form["attrs"].get("id")}
        for form_id, controls in self._owned.items():
            if form_id in by_id:
                by_id[form_id]["controls"].extend(controls)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"attrs": attrs, "controls": []}
            self.forms.append(self._form)
            return
        controls = self._controls(attrs)
        if controls is None:
            return
        if tag == "input":
            controls.append(
                {"tag": "input", **{k: (v if v is not None else True) for k, v in attrs.items()}}
            )
        elif tag == "select":
            self._select = {"tag": "select", "attrs": attrs, "options": []}
            controls.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = {"attrs": attrs, "text": ""}
            self._select["options"].append(self._option)
        elif tag == "textarea":
            self._textarea = {"tag": "textarea", "attrs": attrs, "text": ""}
            controls.append(self._textarea)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
            self._option = None
        elif tag == "option":
            self._option = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data


def _entries(form: dict) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    for control in form["controls"]:
        if control["tag"] == "input":
            name = control.get("name")
            kind = str(control.get("type", "text")).lower()
            if not name or "disabled" in control or kind in _NOT_SUBMITTED:
                continue
            value = control.get("value", "")
            value = "" if value is True else value
            if kind in {"checkbox", "radio"}:
                if "checked" in control:
                    entries.append((name, value or "on"))
                continue
            entries.append((name, _sanitise(kind, value)))
        elif control["tag"] == "select":
            attrs = control["attrs"]
            name = attrs.get("name")
            if not name or "disabled" in attrs:
                continue
            options = [o for o in control["options"] if "disabled" not in o["attrs"]]
            chosen = [o for o in options if "selected" in o["attrs"]]
            if "multiple" not in attrs:
                # A single select always submits one option: the last one marked
                # selected, else the first one.
                chosen = chosen[-1:] or options[:1]
            for option in chosen:
                value = option["attrs"].get("value")
                entries.append((name, option["text"].strip() if value is None else value))
        else:
            attrs = control["attrs"]
            name = attrs.get("name")
            if not name or "disabled" in attrs:
                continue
            text = control["text"]
            # The parser drops nothing: a newline right after <textarea> is not content.
            if text.startswith("\r\n"):
                text = text[2:]
            elif text.startswith("\n"):
                text = text[1:]
            entries.append((name, text))
    # Submission normalises every line break in names and values to CR LF
    # (HTML, "converting an entry list to a list of name-value pairs").
    return [(_crlf(name), _crlf(value)) for name, value in entries]


def _crlf(text: str) -> str:
    return re.sub(r"\r\n|\r|\n", "\r\n", text)


def page_forms(html: str) -> list[dict]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def form_data(
    html: str, *, action: str | None = None, form_id: str | None = None
) -> dict[str, list[str]]:
    """The entries of the one POST form whose action is `action` (or, with None, the
    one POST form without an action, which submits to the page itself), or of the
    POST form with the id `form_id`, as a dict of lists ready for the test client.
    Controls joined to the form by their `form` attribute are its entries too."""
    found = []
    for form in page_forms(html):
        attrs = form["attrs"]
        if str(attrs.get("method", "get")).lower() != "post":
            continue
        if form_id is not None:
            if attrs.get("id") == form_id:
                found.append(form)
        elif (attrs.get("action") or None) == action:
            found.append(form)
    if len(found) != 1:
        raise AssertionError(
            f"expected one POST form for {form_id or action!r}, found {len(found)}"
        )
    data: dict[str, list[str]] = {}
    for name, value in _entries(found[0]):
        data.setdefault(name, []).append(value)
    data.pop("csrfmiddlewaretoken", None)
    return data
