import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { thermalThrottlePaths } from './host-files.js';

test('thermal_throttle masked paths: one per CPU that has it, in CPU order, as the container sees them', () => {
  const sys = mkdtempSync(join(tmpdir(), 'berth-sys-'));
  try {
    for (const c of ['cpu0', 'cpu2', 'cpu10']) mkdirSync(join(sys, 'devices/system/cpu', c, 'thermal_throttle'), { recursive: true });
    mkdirSync(join(sys, 'devices/system/cpu/cpu1'));
    mkdirSync(join(sys, 'devices/system/cpu/cpufreq/thermal_throttle'), { recursive: true });
    assert.deepEqual(thermalThrottlePaths(sys), [
      '/sys/devices/system/cpu/cpu0/thermal_throttle',
      '/sys/devices/system/cpu/cpu2/thermal_throttle',
      '/sys/devices/system/cpu/cpu10/thermal_throttle',
    ]);
    assert.deepEqual(thermalThrottlePaths(join(sys, 'nosuch')), []);
  } finally {
    rmSync(sys, { recursive: true, force: true });
  }
});
