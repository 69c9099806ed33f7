"""aarch64_binary: a cc_binary cross-built for arm64 inside an ordinary (x86_64) build.

The lab boots arm64 kernels whose init runs the arm64 agent, and its tests run under a plain
`bazel test`, so the arm64 agent is built through a configuration transition to the toolchain
that `--config=aarch64` selects (bazel/aarch64) instead of by a second bazel invocation.
"""

def _to_aarch64_impl(settings, attr):
    return {
        "//command_line_option:crosstool_top": "//bazel/aarch64:toolchain",
        "//command_line_option:cpu": "aarch64",
        "//command_line_option:compiler": "gcc",
        # Tools that run during the build stay x86_64.
        "//command_line_option:host_crosstool_top": "@bazel_tools//tools/cpp:toolchain",
    }

_to_aarch64 = transition(
    implementation = _to_aarch64_impl,
    inputs = [],
    outputs = [
        "//command_line_option:crosstool_top",
        "//command_line_option:cpu",
        "//command_line_option:compiler",
        "//command_line_option:host_crosstool_top",
    ],
)

def _aarch64_binary_impl(ctx):
    binary = ctx.attr.binary[0][DefaultInfo].files_to_run.executable
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.symlink(output = out, target_file = binary)
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

aarch64_binary = rule(
    implementation = _aarch64_binary_impl,
    attrs = {
        "binary": attr.label(cfg = _to_aarch64, mandatory = True),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
    doc = "The arm64 build of `binary`, as a file named after this target.",
)
