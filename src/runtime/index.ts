/** The OCI runtime library: the lifecycle verbs over a state root. The CLI is a thin shell on it. */
export { newRuntimeContext, type RuntimeContext } from './context.js';
export { createContainer, type CreateOptions } from './create.js';
export { startContainer } from './start.js';
export { containerState, listContainers } from './state.js';
export { killContainer } from './kill.js';
export { deleteContainer } from './delete.js';
export { runContainer, type RunOptions } from './run.js';
export { execInContainer, execProcessFromFlags, type ContainerExecOptions } from './container-exec.js';
export { pauseContainer, resumeContainer } from './pause.js';
export { updateContainer } from './update.js';
export { containerPids } from './ps.js';
export { defaultSpec } from './default-spec.js';
export { runtimeFeatures } from './features.js';
export { parseSignal } from './signals.js';
export { checkId } from './container-state.js';
