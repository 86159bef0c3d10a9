/**
 * Container networking through CNI: network namespaces, the plugins from Debian's
 * containernetworking-plugins, port publishing, /etc/hosts and resolv.conf. docs/network.md.
 */
export { CniNetworkManager, DEFAULT_NETWORK, endpointIp, type CreateNetworkOptions, type ContainerRef, type EndpointView, type NetworkManagerOptions } from './manager.js';
export type { NetworkRecord, EndpointRecord, SandboxRecord } from './store.js';
export { parsePublish, formatMapping, type PortMapping } from './ports.js';
export { createNetns, removeNetns, netnsPath } from './netns.js';
export { renderHosts } from './etc-files.js';
export { CNI_PATH, CNI_PACKAGE } from './cni.js';
export type { NetworkAttachment, NetworkManager, NetworkSetupOptions } from './types.js';
