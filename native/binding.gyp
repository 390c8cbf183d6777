{
  # Three addons. Two are built only where their Debian libraries are installed (pkg-config), so that a machine with
  # one set of headers still gets that part: honeywall_nf (the gateway's NFQUEUE, NFLOG and frame sending) and
  # honeywall_engine (the detection engine's PCRE2 and Hyperscan); honeywall_unix (datagrams to a local socket, for
  # syslog's /dev/log) needs libc only and is always built.
  "variables": {
    "has_nf": "<!(pkg-config --exists libnetfilter_queue libnetfilter_log && echo 1 || echo 0)",
    "has_engine": "<!(pkg-config --exists libhs libpcre2-8 && echo 1 || echo 0)"
  },
  "targets": [
    {
      "target_name": "honeywall_nf",
      "conditions": [
        ["has_nf==1", {
          "sources": ["src/honeywall_nf.c"],
          "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11"],
          "defines": ["NAPI_VERSION=8"],
          "libraries": ["-lnetfilter_queue", "-lnetfilter_log", "-lnfnetlink", "-lmnl"]
        }, {
          "type": "none"
        }]
      ]
    },
    {
      "target_name": "honeywall_unix",
      "sources": ["src/honeywall_unix.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "honeywall_engine",
      "conditions": [
        ["has_engine==1", {
          "sources": ["src/honeywall_engine.c", "src/honeywall_capture.c", "src/honeywall_decode.c", "src/honeywall_flow.c", "src/honeywall_stream.c", "src/honeywall_paf.c", "src/honeywall_app.c", "src/honeywall_defrag.c", "src/honeywall_front.c", "src/honeywall_shard.c", "src/honeywall_map.c"],
          "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11", "<!@(pkg-config --cflags libhs libpcre2-8)"],
          "defines": ["NAPI_VERSION=8"],
          "libraries": ["<!@(pkg-config --libs libhs libpcre2-8)"]
        }, {
          "type": "none"
        }]
      ]
    }
  ]
}
