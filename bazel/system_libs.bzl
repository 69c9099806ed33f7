"""Maps Debian's system C++ libraries into Bazel through pkg-config.

A repository rule runs pkg-config once at fetch time (locally, nothing is downloaded) and writes a
BUILD file with one cc_library per package, carrying that package's link flags. Headers live in
/usr/include, which the toolchain already searches.
"""

# Bazel target name -> pkg-config modules it stands for.
_PACKAGES = {
    "grpcpp": ["grpc++"],
    "grpcpp_reflection": ["grpc++"],
    "protobuf": ["protobuf"],
    "prometheus": ["prometheus-cpp-pull", "prometheus-cpp-core"],
    "sqlite3": ["sqlite3"],
    "libpq": ["libpq"],
    "gtest": ["gtest"],
    "gtest_main": ["gtest_main", "gtest"],
    "gmock": ["gmock", "gtest"],
    "benchmark": ["benchmark"],
    "absl_status": ["absl_status", "absl_statusor"],
    "absl_strings": ["absl_strings", "absl_str_format"],
    "absl_flags": ["absl_flags", "absl_flags_parse", "absl_flags_usage"],
    "absl_time": ["absl_time"],
    "absl_synchronization": ["absl_synchronization"],
    "absl_random": ["absl_random_random"],
    "absl_hash": ["absl_hash", "absl_raw_hash_set"],
    "libcrypto": ["libcrypto"],
    "libssl": ["libssl"],
    "zlib": ["zlib"],
}

# Libraries that have no .pc file on Debian 12.
_EXTRA_LINKOPTS = {
    "grpcpp_reflection": ["-Wl,--no-as-needed", "-lgrpc++_reflection", "-Wl,--as-needed"],
    "gtest": ["-pthread"],
    "gtest_main": ["-pthread"],
    "gmock": ["-pthread"],
    "benchmark": ["-pthread"],
}

# Linked by runtime soname instead of the -dev package's unversioned .so: prometheus-cpp-dev is
# not co-installable across architectures (its civetweb dependency is not Multi-Arch), so an
# arm64 cross build links against the :arm64 runtime libraries alone.
_SONAME_LINKOPTS = {
    "prometheus": ["-l:libprometheus-cpp-pull.so.1.0", "-l:libprometheus-cpp-core.so.1.0"],
}

def _pkg_config(ctx, modules):
    pkg_config = ctx.which("pkg-config")
    if pkg_config == None:
        fail("pkg-config not found: install Debian's pkg-config package")
    res = ctx.execute([pkg_config, "--libs"] + modules)
    if res.return_code != 0:
        fail("pkg-config --libs %s failed (is the -dev package installed?): %s" %
             (" ".join(modules), res.stderr))
    return res.stdout.strip().split(" ")

def _system_libs_impl(ctx):
    lines = ['package(default_visibility = ["//visibility:public"])', ""]
    for name, modules in sorted(_PACKAGES.items()):
        linkopts = list(_SONAME_LINKOPTS.get(name) or [f for f in _pkg_config(ctx, modules) if f])
        linkopts += _EXTRA_LINKOPTS.get(name, [])
        lines.append("cc_library(")
        lines.append('    name = "%s",' % name)
        lines.append("    linkopts = %s," % repr(linkopts))
        lines.append(")")
        lines.append("")
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD", "\n".join(lines))

system_libs = repository_rule(
    implementation = _system_libs_impl,
    local = True,
    environ = ["PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR"],
)
