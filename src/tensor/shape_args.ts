/** Sizes and dims given either way PyTorch takes them: as separate numbers, `x.reshape(2, 3)`,
 * or as one array, `x.reshape([2, 3])` (PyTorch's tuple). */
import { TorchError } from "../../ffi/errors.ts";

/** A shape or a list of dims as a method's arguments: `(2, 3)` or `([2, 3])`. */
export type ShapeArgs = number[] | [readonly number[]];

/** The arguments of a creation function such as `zeros`: `([2, 3])`, `([2, 3], opts)`,
 * `(2, 3)` or `(2, 3, opts)`. */
export type SizeArgs<O> =
  | [size: readonly number[], opts?: O]
  | number[]
  | [...size: number[], opts: O];

/** The one list of numbers that `args` holds. */
export function shapeFrom(args: ShapeArgs): readonly number[] {
  return args.length === 1 && Array.isArray(args[0]) ? args[0] : args as number[];
}

/** The size and the options that `args` hold (options `{}` when none are given). */
export function sizeFrom<O extends object>(
  args: SizeArgs<O> | readonly unknown[],
): { size: readonly number[]; opts: Partial<O> } {
  if (Array.isArray(args[0])) {
    return { size: args[0] as readonly number[], opts: (args[1] ?? {}) as Partial<O> };
  }
  const last = args[args.length - 1];
  const hasOpts = last !== null && typeof last === "object";
  const size = (hasOpts ? args.slice(0, -1) : args) as unknown[];
  if (size.some((d) => typeof d !== "number")) {
    throw new TorchError(`expected a size as numbers or one array of numbers, got (${args})`);
  }
  return { size: size as number[], opts: (hasOpts ? last : {}) as Partial<O> };
}
