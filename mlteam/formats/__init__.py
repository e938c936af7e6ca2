"""The site's date formats, one per kind of time and language (FORMAT_MODULE_PATH).

A day ("Nov 27, 2026", "2026年11月27日") and a moment ("Nov 27, 2026, 14:05") each
read the same on every page and in every email; the SHORT_ variants are the same
formats, so no page can show a second style. Input formats are Django's own.
"""
