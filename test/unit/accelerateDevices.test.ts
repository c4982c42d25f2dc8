import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeAccelerateDeviceCheck } from '../../src/shared/config/checks/accelerateChecks';
import type { ConfigDiagnostic } from '../../src/shared/config/configDiagnostic';
import { probeMachine, type MachineFacts, type MachineProbeSources } from '../../src/shared/config/machineFacts';
import { validateConfigText } from '../../src/shared/config/validateConfig';

// Before anything probes this machine: the validator's own probe must see no GPU, whatever machine runs the tests.
process.env['CUDA_VISIBLE_DEVICES'] = '';

function machine(
  files: { dirs?: Record<string, string[]>; files?: string[] },
  env: Record<string, string> = {},
  platform: NodeJS.Platform = 'linux',
): MachineProbeSources {
  return {
    platform,
    env: { PATH: '/usr/local/bin:/usr/bin', ...env },
    listDir: (path) => files.dirs?.[path],
    exists: (path) => (files.files ?? []).includes(path),
  };
}

function diagnosticsOf(engine: string, facts: MachineFacts): ConfigDiagnostic[] {
  const text = `model: {base: m}\ndata: {train: t.jsonl}\nengine:\n  ${engine}\n`;
  const result = validateConfigText(text);
  return makeAccelerateDeviceCheck(() => facts)({ parsed: result.parsed, view: result.view, dataset: result.dataset });
}

const NO_GPU: MachineFacts = { cudaDevices: 0, evidence: 'none here' };

describe('the probe of the GPUs PyTorch would see', () => {
  it('counts the GPUs the NVIDIA driver lists', () => {
    const facts = probeMachine(machine({ dirs: { '/proc/driver/nvidia/gpus': ['0000:17:00.0', '0000:65:00.0'] } }));
    assert.equal(facts.cudaDevices, 2);
  });

  it('finds none without a driver or nvidia-smi, and says where it looked', () => {
    const facts = probeMachine(machine({}));
    assert.equal(facts.cudaDevices, 0);
    assert.match(facts.evidence, /\/proc\/driver\/nvidia\/gpus.*nvidia-smi/);
  });

  it('cannot tell when nvidia-smi is installed without the driver listing GPUs, or when a ROCm or WSL device exists', () => {
    assert.equal(probeMachine(machine({ files: ['/usr/bin/nvidia-smi'] })).cudaDevices, undefined);
    assert.equal(probeMachine(machine({ files: ['/dev/kfd'] })).cudaDevices, undefined);
    assert.equal(probeMachine(machine({ files: ['/dev/dxg'] })).cudaDevices, undefined);
  });

  it('reads CUDA_VISIBLE_DEVICES as PyTorch does: empty or -1 hides every GPU, a list shows at most that many', () => {
    const four = { dirs: { '/proc/driver/nvidia/gpus': ['a', 'b', 'c', 'd'] } };
    assert.equal(probeMachine(machine(four, { CUDA_VISIBLE_DEVICES: '' })).cudaDevices, 0);
    assert.equal(probeMachine(machine(four, { CUDA_VISIBLE_DEVICES: '-1' })).cudaDevices, 0);
    assert.equal(probeMachine(machine(four, { CUDA_VISIBLE_DEVICES: '2,3' })).cudaDevices, 2);
    assert.equal(probeMachine(machine(four, { CUDA_VISIBLE_DEVICES: '1,-1,2' })).cudaDevices, 1);
  });

  it('knows macOS has no CUDA, and looks for nvidia-smi.exe on Windows', () => {
    assert.equal(probeMachine(machine({}, {}, 'darwin')).cudaDevices, 0);
    const windows = machine({ files: ['C:\\Windows/System32/nvidia-smi.exe'] }, { PATH: '', SystemRoot: 'C:\\Windows' }, 'win32');
    assert.equal(probeMachine(windows).cudaDevices, undefined);
    assert.equal(probeMachine(machine({}, { PATH: '' }, 'win32')).cudaDevices, 0);
  });
});

describe('the accelerate-processes-exceed-gpus check', () => {
  it('warns on num_processes when several processes would start on a machine with no GPU, and offers engine.cpu', () => {
    const [diagnostic, ...rest] = diagnosticsOf('{type: accelerate, num_processes: 2}', NO_GPU);
    assert.deepEqual(rest, []);
    assert.equal(diagnostic!.code, 'accelerate-processes-exceed-gpus');
    assert.equal(diagnostic!.severity, 'warning');
    assert.deepEqual(diagnostic!.data?.path, ['engine', 'num_processes']);
    assert.match(
      diagnostic!.message,
      /engine\.num_processes 2 .* no GPU \(none here\).*Set engine\.cpu: true .* or run on a machine with 2 GPUs/,
    );
    assert.deepEqual(diagnostic!.data?.fixes?.[0]?.set, [{ path: ['engine', 'cpu'], value: true }]);
  });

  it('warns when the machine has fewer GPUs than the processes it would start, counting per machine', () => {
    assert.equal(diagnosticsOf('{type: accelerate, num_processes: 4}', { cudaDevices: 2, evidence: 'two' }).length, 1);
    assert.equal(diagnosticsOf('{type: accelerate, num_processes: 4}', { cudaDevices: 4, evidence: 'four' }).length, 0);
    const twoMachines = '{type: accelerate, num_processes: 4, num_machines: 2, main_process_ip: 10.0.0.1}';
    assert.equal(diagnosticsOf(twoMachines, { cudaDevices: 2, evidence: 'two' }).length, 0);
    assert.match(diagnosticsOf(twoMachines, { cudaDevices: 1, evidence: 'one' })[0]!.message, /2 processes on each of 2 machines/);
  });

  it('says nothing with engine.cpu, one process, an accelerate config file, another engine, or GPUs it cannot count', () => {
    for (const engine of [
      '{type: accelerate, num_processes: 2, cpu: true}',
      '{type: accelerate, num_processes: 1}',
      '{type: accelerate}',
      '{type: accelerate, num_processes: 2, config_file: accel.yaml}',
      '{type: tfjs}',
    ])
      assert.deepEqual(diagnosticsOf(engine, NO_GPU), [], engine);
    assert.deepEqual(diagnosticsOf('{type: accelerate, num_processes: 2}', { cudaDevices: undefined, evidence: '?' }), []);
  });

  it('runs in the validator on this machine, where CUDA_VISIBLE_DEVICES hides every GPU', () => {
    const text = 'model: {base: m}\ndata: {train: t.jsonl}\nengine: {type: accelerate, num_processes: 2}\n';
    const found = validateConfigText(text).diagnostics.filter((d) => d.code === 'accelerate-processes-exceed-gpus');
    assert.equal(found.length, 1);
    assert.match(found[0]!.message, /CUDA_VISIBLE_DEVICES="" hides every GPU/);
    assert.deepEqual(
      validateConfigText(text.replace('num_processes: 2', 'num_processes: 2, cpu: true')).diagnostics.filter(
        (d) => d.code === 'accelerate-processes-exceed-gpus',
      ),
      [],
    );
  });
});
