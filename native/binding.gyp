{
  "targets": [
    {
      "target_name": "honeywall_nf",
      "sources": ["src/honeywall_nf.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11"],
      "defines": ["NAPI_VERSION=8"],
      "libraries": ["-lnetfilter_queue", "-lnetfilter_log", "-lnfnetlink", "-lmnl"]
    }
  ]
}
