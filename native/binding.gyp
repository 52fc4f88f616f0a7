{
  "targets": [
    {
      "target_name": "berth_sys",
      "sources": ["berth_sys.c", "netlink.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "berth-exec",
      "type": "executable",
      "sources": ["exec.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-lseccomp"]
    }
  ]
}
