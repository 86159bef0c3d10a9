import { NativeSnapshotter, OverlaySnapshotter } from '../../../src/snapshot/index.js';
import { leakCheckFile, Scope } from '../../harness/index.js';
import { snapshotterSuite } from './suite.js';

const scope = new Scope('snapshot-conformance');
leakCheckFile(scope);
snapshotterSuite('overlay', scope, (root) => new OverlaySnapshotter(root));
snapshotterSuite('native', scope, (root) => new NativeSnapshotter(root));
