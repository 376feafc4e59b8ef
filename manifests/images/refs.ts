// Image references of the project's locally built images. `localhost/` keeps them from ever being
// pulled from a registry: the kubelet finds them in containerd's k8s.io namespace (imported from the
// OCI tars that build.ts writes) or the pod fails with ErrImageNeverPull.

export const PAUSE_IMAGE = 'localhost/varmor/pause:e2e';
export const BUSYBOX_IMAGE = 'localhost/varmor/busybox:e2e';
export const PRODUCT_IMAGE = 'localhost/varmor/varmor-ts:dev';
