"""Compiler flags for faultline's own code (generated code is built without -Werror)."""

FAULTLINE_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",
]
