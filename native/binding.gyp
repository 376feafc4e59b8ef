{
  "targets": [
    {
      "target_name": "varmor_bpf",
      "sources": ["bpf_lsm.c", "loader.c"],
      "include_dirs": ["<(SHARED_INTERMEDIATE_DIR)/bpf", "."],
      "libraries": ["-lbpf", "-lelf", "-lz"],
      "cflags": ["-std=gnu11", "-Wall", "-Wno-missing-field-initializers"],
      "actions": [
        {
          "action_name": "bpf_skeleton",
          "inputs": [
            "bpf/varmor.bpf.c", "bpf/build-skel.sh", "varmor_tables.h",
            "bpf/lib/common.h", "bpf/lib/maps.h", "bpf/lib/policy.h", "bpf/lib/events.h", "bpf/lib/root.h", "bpf/lib/path.h", "bpf/lib/path_cache.h", "bpf/lib/path_facts.h", "bpf/lib/file.h", "bpf/lib/net.h", "bpf/lib/mount.h", "bpf/lib/ptrace.h", "bpf/lib/caps.h", "bpf/lib/syscall.h"
          ],
          "outputs": ["<(SHARED_INTERMEDIATE_DIR)/bpf/varmor.skel.h"],
          "action": ["sh", "bpf/build-skel.sh", "<(SHARED_INTERMEDIATE_DIR)/bpf"]
        }
      ]
    }
  ]
}
