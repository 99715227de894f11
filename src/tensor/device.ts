/** Devices: `cpu`, `cuda`, `cuda:N`, as strings and as libtorch (type, index). */
import { TorchError } from "../../ffi/errors.ts";

/** A device string. */
export type Device = "cpu" | "cuda" | `cuda:${number}`;

/** c10::DeviceType codes we use. */
export const DEVICE_TYPE = { cpu: 0, cuda: 1 } as const;

export interface ParsedDevice {
  type: number;
  index: number;
}

export function parseDevice(d: string): ParsedDevice {
  if (d === "cpu") return { type: 0, index: -1 };
  const m = typeof d === "string" ? /^cuda(?::(\d+))?$/.exec(d) : null;
  // The index travels as an int8 (c10::DeviceIndex).
  if (!m || (m[1] !== undefined && Number(m[1]) > 127)) {
    throw new TorchError(`unknown device "${d}"; expected "cpu", "cuda" or "cuda:N" (N <= 127)`);
  }
  return { type: 1, index: m[1] === undefined ? -1 : Number(m[1]) };
}

export function deviceName(type: number, index: number): Device {
  if (type === 0) return "cpu";
  if (type === 1) return index < 0 ? "cuda" : `cuda:${index}`;
  throw new TorchError(`unsupported device type ${type}`);
}
