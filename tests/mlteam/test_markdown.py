"""mlteam.markdown: typed markdown rendered safe. Images are not shown (privacy:
no request leaves for someone else's server; the CSP refuses them anyway), yet
nothing typed vanishes: an image reads as a plain, sanitised link."""

from __future__ import annotations

import pytest

from mlteam.markdown import render_markdown, render_markdown_inline

LINK_REL = 'rel="noopener noreferrer nofollow"'


@pytest.mark.parametrize("render", [render_markdown, render_markdown_inline])
def test_an_image_reads_as_a_link_named_by_its_alt_text(render):
    html = render("See ![the ROC curve](https://example.com/roc.png) here.")
    assert f'<a href="https://example.com/roc.png" {LINK_REL}>the ROC curve</a>' in html
    assert "<img" not in html


@pytest.mark.parametrize("render", [render_markdown, render_markdown_inline])
def test_an_image_without_alt_text_reads_as_its_address(render):
    html = render('![](https://example.com/x.png "Chart")')
    assert (
        f'<a href="https://example.com/x.png" title="Chart" {LINK_REL}>https://example.com/x.png</a>'
        in html
    )


def test_an_images_alt_text_is_escaped_and_its_markup_kept_as_text():
    html = render_markdown('![*big* <b>bold</b>](https://example.com/a.png?x=1&y="2")')
    assert '<a href="https://example.com/a.png?x=1&amp;y=%222%22"' in html
    assert ">big &lt;b&gt;bold&lt;/b&gt;</a>" in html
    assert "<b>" not in html


@pytest.mark.parametrize(
    "typed",
    [
        "![click](javascript:alert(1))",
        "![click](JaVaScRiPt:alert(1))",
        "![click](vbscript:msgbox(1))",
        "![click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![click](data:image/png;base64,iVBORw0KGgo=)",
    ],
)
def test_an_image_with_an_unsafe_address_stays_inert(typed):
    html = render_markdown(typed)
    assert "click" in html  # what was typed still shows
    assert "href=" not in html and "<img" not in html and "src=" not in html


def test_an_image_inside_a_link_is_the_links_text():
    html = render_markdown("[![logo](https://example.com/logo.png)](https://example.com/)")
    assert html.strip() == f'<p><a href="https://example.com/" {LINK_REL}>logo</a></p>'
