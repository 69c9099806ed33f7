"""@rules_java//:defs.bzl: the rules of @rules_java//java:defs.bzl under the older load path."""

load(
    "//java:defs.bzl",
    _java_binary = "java_binary",
    _java_import = "java_import",
    _java_library = "java_library",
    _java_plugin = "java_plugin",
    _java_runtime = "java_runtime",
    _java_test = "java_test",
    _java_toolchain = "java_toolchain",
)

java_binary = _java_binary
java_import = _java_import
java_library = _java_library
java_plugin = _java_plugin
java_runtime = _java_runtime
java_test = _java_test
java_toolchain = _java_toolchain
