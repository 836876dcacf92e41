// Takes the server's CPU, memory and root-disk figures: /proc where Linux has it (CPU from
// /proc/stat deltas, memory as MemTotal − MemAvailable), node:os otherwise; disk by statfs.
import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { cpus, freemem, totalmem } from 'node:os';
import type { MetricSample } from '@tether/protocol';

interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

export class SystemSampler {
  private last: CpuTimes;

  constructor(private readonly diskPath = '/') {
    // The first sample's CPU figure covers the time since the sampler was made.
    this.last = readCpuTimes();
  }

  async sample(now: Date): Promise<MetricSample> {
    const cpu = readCpuTimes();
    const busy = cpu.busy - this.last.busy;
    const total = cpu.total - this.last.total;
    this.last = cpu;
    const cpuPercent = total > 0 ? clamp((100 * busy) / total, 0, 100) : 0;
    const memory = readMemory();
    const disk = await statfs(this.diskPath);
    const diskTotalBytes = disk.blocks * disk.bsize;
    return {
      time: now.toISOString(),
      cpuPercent: Math.round(cpuPercent * 100) / 100,
      memoryUsedBytes: memory.used,
      memoryTotalBytes: memory.total,
      diskUsedBytes: Math.max(0, (disk.blocks - disk.bfree) * disk.bsize),
      diskTotalBytes,
    };
  }
}

function readCpuTimes(): CpuTimes {
  try {
    // cpu  user nice system idle iowait irq softirq steal (guest time is already in user)
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (fields.length >= 4 && fields.every(Number.isFinite)) {
      const total = fields.reduce((sum, value) => sum + value, 0);
      const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
      return { busy: total - idle, total };
    }
  } catch {
    // Not Linux: node:os below.
  }
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

function readMemory(): { used: number; total: number } {
  try {
    const info = readFileSync('/proc/meminfo', 'utf8');
    const kib = (name: string): number | undefined => {
      const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(info);
      return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
    };
    const total = kib('MemTotal');
    const available = kib('MemAvailable');
    if (total !== undefined && available !== undefined) {
      return { used: Math.max(0, total - available), total };
    }
  } catch {
    // Not Linux: node:os below.
  }
  const total = totalmem();
  return { used: Math.max(0, total - freemem()), total };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
