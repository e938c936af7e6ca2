"""Words that join other words, in the reader's language."""

from django.utils.translation import pgettext


def list_separator() -> str:
    """What goes between the items of a list in a sentence: ", " in English, "、" in
    Japanese."""
    return pgettext("between the items of a list", ", ")
