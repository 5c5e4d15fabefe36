"""What the notebooks promise a learner and a trainer, read from the files (nbval runs them):

- each opens with what it teaches, how long it takes and which sections are appendix, and the
  appendix sections it names are the ones whose headings say so (a trainer shortening a
  class goes by them: docs/classroom.md);
- every reference page it cites is a link to the page on learn.microsoft.com, never a bare
  file name such as ``addPhoneAudio_ref.md`` that a learner cannot open;
- opening one does not dirty git: the stored kernelspec is the one ipykernel installs, and the
  file is exactly what Jupyter writes back when it saves it;
- notebook 01's picture of the two phone legs is there, and carries its own background (an
  image does not see JupyterLab's theme, light or dark).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import get_kernel_dict

from ucwa_nb.protocol.operations import reference_page

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
APPENDIX = " *(appendix)*"
# A page of Microsoft's reference (Skype/UCWA/<name>.md), written as a file name.
BARE_PAGE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_ref)?\.md\b")
LINK = re.compile(r"\[([^\]]+)\]\((https://learn\.microsoft\.com/en-us/skype-sdk/ucwa/[^)\s]+)\)")
OUR_FILES = {"README.md", "ARCHITECTURE.md", "classroom.md"}


def _read(path: Path) -> nbformat.NotebookNode:
    notebook: nbformat.NotebookNode = nbformat.read(  # type: ignore[no-untyped-call]
        path, as_version=4)
    return notebook


def _markdown(path: Path) -> list[str]:
    return [cell.source for cell in _read(path).cells if cell.cell_type == "markdown"]


def test_there_are_the_nine_notebooks() -> None:
    assert [path.name[:2] for path in PATHS] == [f"{n:02}" for n in range(1, 10)]


@pytest.mark.parametrize("path", PATHS, ids=[path.stem for path in PATHS])
def test_each_opens_with_what_it_teaches_and_how_long_it_takes(path: Path) -> None:
    first = _read(path).cells[0]
    assert first.cell_type == "markdown"
    assert first.source.startswith("# ")
    assert re.search(r"^> \*\*What you will learn:\*\* \S.{30,}$", first.source, re.M)
    assert re.search(r"^> \*\*Time:\*\* about \d+ minutes", first.source, re.M)
    assert re.search(r"^> \*\*Appendix\*\* ", first.source, re.M)


@pytest.mark.parametrize("path", PATHS, ids=[path.stem for path in PATHS])
def test_the_appendix_named_at_the_top_is_the_one_marked_in_the_headings(path: Path) -> None:
    first, *rest = _markdown(path)
    line = re.search(r"^> \*\*Appendix\*\* .*?: (.*)\.$", first, re.M)
    assert line is not None
    named = [] if line.group(1) == "none" else re.findall(r"\*([^*]+)\*", line.group(1))
    marked = [heading.removesuffix(APPENDIX)
              for text in rest for heading in re.findall(r"^#{2,3} (.*)$", text, re.M)
              if heading.endswith(APPENDIX)]
    assert named == marked
    if named:  # a short class still has a core: not everything is appendix
        headings = [h for text in rest for h in re.findall(r"^## (.*)$", text, re.M)]
        assert any(not h.endswith(APPENDIX) for h in headings)


@pytest.mark.parametrize("path", PATHS, ids=[path.stem for path in PATHS])
def test_every_reference_page_cited_is_a_link_a_learner_can_open(path: Path) -> None:
    for cell in _read(path).cells:
        text = LINK.sub("", cell.source)  # what is left once the links are taken out
        bare = [name for name in BARE_PAGE.findall(text) if name not in OUR_FILES]
        assert not bare, f"{path.name}: cited without a link: {bare}"
        for label, url in LINK.findall(cell.source):
            assert url == reference_page(label), (label, url)


@pytest.mark.parametrize("document", ["README.md", "docs/classroom.md"])
def test_the_readme_and_the_guide_cite_pages_as_links_too(document: str) -> None:
    text = LINK.sub("", (NOTEBOOKS.parent / document).read_text("utf-8"))
    # Microsoft's page names: capitalised (RootURL.md) or a resource's (addPhoneAudio_ref.md).
    bare = [name for name in BARE_PAGE.findall(text) if name not in OUR_FILES
            and (name[0].isupper() or name.endswith("_ref.md"))]
    assert not bare


def test_the_citations_are_all_there() -> None:
    # The 36 citations of the reference pages, each now a link (none was lost on the way).
    links = [url for path in PATHS for text in _markdown(path) for _, url in LINK.findall(text)]
    assert len(links) >= 36
    assert reference_page("addPhoneAudio_ref") in links


@pytest.mark.parametrize("path", PATHS, ids=[path.stem for path in PATHS])
def test_opening_a_notebook_leaves_git_clean(path: Path) -> None:
    notebook = _read(path)
    installed = get_kernel_dict()
    # JupyterLab writes the running kernel's spec into the metadata when it opens a notebook,
    # and its autosave then writes the file: the stored spec must be the same already.
    assert notebook.metadata.kernelspec == {
        "name": "python3", "display_name": installed["display_name"],
        "language": installed["language"]}
    assert notebook.metadata.language_info["name"] == "python"
    # What Jupyter's contents manager writes back when it saves the notebook unchanged.
    written = nbformat.writes(notebook)  # type: ignore[no-untyped-call]
    assert path.read_text("utf-8") == written + "\n"


def test_notebook_01_has_the_glossary_and_the_picture_of_the_two_legs() -> None:
    intro = _markdown(NOTEBOOKS / "01-quickstart.ipynb")[0]
    for word in ("application", "event channel", "link", "operationId"):
        assert f"* **{word}**: " in intro, word
    assert "**Links, not URLs, drive the client.**" in intro
    assert "**Send** button goes grey" in intro
    picture = re.search(r"!\[[^\]]+\]\((images/[\w-]+\.svg)\)", intro)
    assert picture is not None
    svg = ElementTree.parse(NOTEBOOKS / picture.group(1)).getroot()
    namespace = "{http://www.w3.org/2000/svg}"
    assert svg.find(f"{namespace}title") is not None  # read aloud by a screen reader
    background = svg.find(f"{namespace}rect")
    assert background is not None
    assert (background.get("width"), background.get("fill")) == ("638", "#fbfbf8")
    texts = " ".join(t.text or "" for t in svg.iter(f"{namespace}text"))
    assert "leg 1" in texts
    assert "leg 2" in texts


@pytest.mark.parametrize("path", PATHS, ids=[path.stem for path in PATHS])
def test_no_stored_output_names_this_machines_paths(path: Path) -> None:
    # A notebook is run in place and committed: an absolute path in its outputs or widget
    # state (a tooltip naming the export folder did) would be this machine's, not the reader's.
    assert str(NOTEBOOKS.parent) not in path.read_text("utf-8")
