{
  "targets": [{
    "target_name": "nanscope_native",
    "sources": ["src/addon.cc", "src/tensor.cc", "src/ops.cc", "src/probe.cc", "src/watch.cc", "src/allocator.cc"],
    "include_dirs": ["<!@(node -p \"require('node-addon-api').include_dir\")", "<!@(node find-libtorch.cjs include)"],
    "libraries": ["-L<!(node find-libtorch.cjs libdir)", "<!@(node find-libtorch.cjs libs)", "-Wl,-rpath,<!(node find-libtorch.cjs libdir)"],
    "defines": ["NAPI_VERSION=9", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "_GLIBCXX_USE_CXX11_ABI=<!(node find-libtorch.cjs cxx11abi)"],
    "cflags!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-fopenmp", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
    "ldflags": ["-fopenmp"]
  }]
}
