{
  "targets": [
    {
      "target_name": "varmor_bpf",
      "sources": ["bpf_lsm.c"],
      "include_dirs": ["<(SHARED_INTERMEDIATE_DIR)/bpf", "."],
      "libraries": ["-lbpf", "-lelf", "-lz"],
      "cflags": ["-std=gnu11", "-Wall", "-Wno-missing-field-initializers"],
      "actions": [
        {
          "action_name": "bpf_skeleton",
          "inputs": ["bpf/varmor.bpf.c", "bpf/build-skel.sh", "varmor_tables.h"],
          "outputs": ["<(SHARED_INTERMEDIATE_DIR)/bpf/varmor.skel.h"],
          "action": ["sh", "bpf/build-skel.sh", "<(SHARED_INTERMEDIATE_DIR)/bpf"]
        }
      ]
    }
  ]
}
