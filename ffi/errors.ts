/** What PyTorch raises as `RuntimeError`: an error raised by libtorch (its message, without
 * the C++ backtrace) or by the binding when a call cannot be made (a disposed tensor, a bad
 * argument). */
export class TorchError extends Error {
  /** The operator being called, when there was one (`aten::add.Tensor`). */
  readonly op?: string;
  /** A TorchError with libtorch's `message`, prefixed by the operator when there was one. */
  constructor(message: string, op?: string) {
    super(op ? `${op}: ${message}` : message);
    this.name = "TorchError";
    this.op = op;
  }
}
