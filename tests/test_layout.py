"""The package's lists are written once, its parts keep to their rooms and its light modules stay light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import hearback
from hearback import languages
from hearback.errors import ErrorCode

PACKAGE = Path(hearback.__file__).parent
#: the contracts' ground floor: every part may import them, they import no part
FLOOR = ("hearback.types", "hearback.errors", "hearback.languages", "hearback.document", "hearback.schema")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every hearback module -> the hearback modules it imports anywhere (top level, inside
    functions, under TYPE_CHECKING), a ``from package import name`` counted as the module
    ``package.name`` where there is one."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            edges |= {t for t in targets if t in modules and t != name}
        graph[name] = edges
    return graph


def _loaded_by(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", f"import sys\n{code}\nprint(sorted(m for m in sys.modules))"],
                         capture_output=True, text=True, check=True)
    return eval(out.stdout.strip().splitlines()[-1])  # a list of module names printed by the child


def test_language_list_is_faster_whispers():
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert list(languages.NAMES) == list(_LANGUAGE_CODES)
    assert languages.name("fr") == "french" and languages.name("xx") == "xx"


def test_validating_input_imports_no_model_library_and_no_subtitle_engine():
    loaded = _loaded_by("import hearback.schema as s\ns.parse(s.HandlerInput, {'audio_url': 'https://x/a.mp3', "
                        "'language': 'fr', 'subtitle_style': 'bbc', 'max_cps': 14})")
    assert [m for m in ("faster_whisper", "ctranslate2", "torch", "av", "pyannote") if m in loaded] == []
    # the presets' limits are data; the layout, timing and lint code stays unloaded
    assert [m for m in loaded if m.startswith("hearback.subtitles.")] == ["hearback.subtitles.presets"]


def test_the_contract_and_the_job_store_load_no_subtitle_module():
    for module in ("hearback.schema", "hearback.document", "hearback.jobs", "hearback.jobs.store"):
        loaded = _loaded_by(f"import {module}")
        assert [m for m in loaded if m.startswith("hearback.subtitles")] == [], module


def test_no_import_cycle_and_the_floor_imports_no_part():
    graph = _imports()
    # Tarjan's strongly connected components: a cycle is a component of more than one module
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in graph:
        if node not in index:
            visit(node)
    assert cycles == []
    parts = {name.split(".")[1] for name in graph if name.count(".") >= 2}
    for floor in FLOOR:
        assert not {m for m in graph[floor] if m.split(".")[1] in parts}, floor


def test_each_room_says_what_it_does_and_the_top_stays_small():
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert len(top) <= 15, top
    for folder in (p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()):
        doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text())) or ""
        assert len(doc.split()) >= 25 and "import" in doc, f"{folder.name}/__init__.py: what it does and may import"


def test_only_asr_imports_the_recognisers_libraries():
    graph_files = {p: p.read_text() for p in PACKAGE.rglob("*.py")}
    for path, text in graph_files.items():
        for node in ast.walk(ast.parse(text)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            if any(n.split(".")[0] in ("faster_whisper", "whisperx") for n in names):
                assert path.parent.name == "asr", path


def test_the_face_is_one_import_and_loads_nothing_heavy():
    loaded = _loaded_by("import hearback")
    assert [m for m in loaded if m.startswith("hearback.")] == []
    assert not {"torch", "faster_whisper", "pyannote"} & {m.split(".")[0] for m in loaded}
    from hearback import ExportOptions, Options, Pipeline, Settings, render
    from hearback.pipeline import Pipeline as pipeline_class

    assert Pipeline is pipeline_class and callable(render) and Options().diarize
    assert Settings().resolved_device in ("cpu", "cuda") and ExportOptions().subtitle_style == "netflix"


def test_the_architecture_page_lists_every_module():
    """docs/architecture.md's tree: a line ``folder/`` opens a folder, an indented ``name.py`` (or a
    page file) is one of its files; the page lists exactly the files there are."""
    page = (PACKAGE.parents[1] / "docs" / "architecture.md").read_text()
    tree = page.split("## The tree", 1)[1].split("```", 2)[1]
    listed, folder = set(), None
    for line in tree.splitlines():
        if line and not line.startswith(" "):
            folder = line.split()[0].rstrip("/")
            folder = "" if folder == "src/hearback" else folder
        elif line.strip():
            listed.add(f"{folder}/{line.split()[0]}".lstrip("/"))
    kinds = (".py", ".js", ".html", ".css")
    actual = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*") if p.suffix in kinds
              and "__pycache__" not in p.parts and "assets" not in p.parts}
    assert listed == actual, (sorted(listed - actual), sorted(actual - listed))


def test_the_readme_stays_a_front_page_and_its_links_resolve():
    root = PACKAGE.parents[1]
    readme = (root / "README.md").read_text()
    assert len(readme.splitlines()) <= 220
    for page in ["SPECS.md", "bench/RESULTS.md", "docs/editor.png",
                 *(f"docs/{p}" for p in ("runpod.md", "speakers.md", "troubleshooting.md", "architecture.md"))]:
        assert f"]({page})" in readme and (root / page).is_file(), page


def test_the_contract_has_a_table_of_contents_of_every_section():
    import re

    specs = (PACKAGE.parents[1] / "SPECS.md").read_text()
    contents = specs.split("## Contents", 1)[1].split("\n## ", 1)[0]
    sections = [h for h in re.findall(r"^## (.+)$", specs, re.M) if h != "Contents"]
    assert re.findall(r"^- \[(.+)\]\(#[\w-]+\)$", contents, re.M) == sections


def test_the_preset_overrides_are_the_export_fields_limits():
    from hearback.schema import LIMIT_FIELDS
    from hearback.subtitles.presets import OVERRIDES

    assert set(LIMIT_FIELDS) == set(OVERRIDES)


def test_every_error_code_has_an_http_status():
    for code in ErrorCode:
        assert 400 <= code.http_status < 600, code
    assert ErrorCode("not_found").http_status == 404 and ErrorCode.INVALID_API_KEY.http_status == 401
