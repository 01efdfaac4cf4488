"""design.md fixes one direction of imports; this keeps it true as the code grows."""

from __future__ import annotations

import ast
from pathlib import Path

import claimwatch

ORDER = ["cli", "capture", "scan", "track", "report", "web", "store", "archive", "extract", "detect", "lexicon"]
RANK = {name: i for i, name in enumerate(ORDER)}
ROOT = Path(claimwatch.__file__).parent


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(a.name for a in node.names)
    return [m for m in found if m == "claimwatch" or m.startswith("claimwatch.")]


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_layer_imports_only_downwards():
    violations = []
    files = [p for p in ROOT.rglob("*.py") if p.relative_to(ROOT).parts[0] in RANK]
    assert len(files) > 20  # the walk really sees the package
    for path in files:
        layer = path.relative_to(ROOT).parts[0]
        for module in _imports(path):
            target = _layer_of(module)
            if target in RANK and RANK[target] < RANK[layer]:
                violations.append(f"{path.relative_to(ROOT)} ({layer}) imports {module}")
            if layer == "extract" and target not in (None, "extract"):
                violations.append(f"{path.relative_to(ROOT)}: extract/ must import nothing of ours ({module})")
            if layer == "detect" and target not in ("detect", "lexicon"):
                violations.append(f"{path.relative_to(ROOT)}: detect/ imports only lexicon/ ({module})")
    assert violations == []


def test_the_red_line_no_person_analysis_dependencies():
    # claimwatch reads documents, never people: no face/person-analysis library may creep in.
    banned = ("insightface", "deepface", "face_recognition", "facenet", "mediapipe", "dlib",
              "retinaface", "mtcnn", "cv2")
    for path in ROOT.rglob("*.py"):
        for module in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(module, ast.Import):
                names = [a.name for a in module.names]
            elif isinstance(module, ast.ImportFrom) and module.module:
                names = [module.module]
            for name in names:
                assert name.split(".")[0] not in banned, f"{path}: imports {name}"
