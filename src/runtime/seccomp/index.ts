/**
 * seccomp for berth: compiles OCI `linux.seccomp` into classic BPF for the native helper, and
 * provides docker's default profile and docker's profile format. See docs/seccomp.md.
 */
export { compileSeccomp, type CompiledSeccomp, type CompileOptions } from './compile.js';
export { type HostArch } from './arch.js';
export { dockerDefaultProfile, DOCKER_DEFAULT_PROFILE } from './docker-default.js';
export { parseDockerProfile, resolveDockerProfile, type DockerProfile, type DockerSyscallRule, type ResolveOptions } from './docker-profile.js';
export { seccompFeatures, type SeccompFeatures } from './features.js';
export { seccompForContainer, type ContainerSeccompOptions } from './security-opt.js';
