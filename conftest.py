"""Doctests of modules whose optional packages are missing are not collected
(the tests of those modules skip themselves)."""

import importlib.util

collect_ignore = []
if not all(importlib.util.find_spec(name) for name in ("onnx", "onnxruntime", "skl2onnx",
                                                        "onnxscript")):
    collect_ignore.append("skae/_onnx.py")
