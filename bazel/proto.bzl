"""Generates C++ protobuf and gRPC code with Debian's protoc and grpc_cpp_plugin.

Bazel 4.2.3's native proto rules would fetch protobuf's sources; a genrule around the system
compiler keeps the build offline and pinned to the same protobuf the libraries were built with.
"""

def faultline_cc_grpc_library(name, srcs, deps = [], grpc = True, visibility = None):
    """One cc_library with the messages (and, if grpc, the service stubs) of `srcs`.

    Args:
      name: the cc_library's name.
      srcs: .proto files in this package; imports are resolved from the workspace root.
      deps: other faultline_cc_grpc_library targets whose protos `srcs` import.
      grpc: whether to generate service code.
      visibility: of the cc_library.
    """
    bases = [s[:-len(".proto")] for s in srcs]
    pb_outs = [b + ".pb.h" for b in bases] + [b + ".pb.cc" for b in bases]
    grpc_outs = []
    if grpc:
        grpc_outs = [b + ".grpc.pb.h" for b in bases] + [b + ".grpc.pb.cc" for b in bases]
    pkg = native.package_name()
    proto_paths = " ".join([(pkg + "/" + s) if pkg else s for s in srcs])
    grpc_flags = ""
    if grpc:
        grpc_flags = ("--grpc_out=$(GENDIR) " +
                      "--plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin) ")

    # protoc must see every imported .proto, so the deps' sources are inputs too.
    dep_srcs = [d + "_protos" for d in deps]
    native.filegroup(
        name = name + "_protos",
        srcs = srcs + dep_srcs,
        visibility = visibility,
    )
    native.genrule(
        name = name + "_gen",
        srcs = srcs + dep_srcs,
        outs = pb_outs + grpc_outs,
        cmd = ("protoc -I. --cpp_out=$(GENDIR) " + grpc_flags + proto_paths),
        message = "protoc " + proto_paths,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in pb_outs + grpc_outs if o.endswith(".cc")],
        hdrs = [o for o in pb_outs + grpc_outs if o.endswith(".h")],
        deps = deps + ["@system//:protobuf"] + (["@system//:grpcpp"] if grpc else []),
        # Generated files register their descriptors in static initialisers: keep every object,
        # or reflection, health checking and name lookups miss types nothing references.
        alwayslink = True,
        visibility = visibility,
    )
