/** torch.scope() ownership edge cases (the common cases are in leak_test.ts). */
import { torch } from "../mod.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

Deno.test("scope: a tensor from outside that a nested scope returns is left alone", () => {
  const outside = torch.randn([2]);
  try {
    let made: ReturnType<typeof torch.randn>[] = [];
    torch.scope(() => {
      const got = torch.scope(() => outside); // not the inner scope's: nothing moves
      assert(got === outside, "the scope returns what fn returned");
      made = torch.scope(() => [outside, outside.mul(2)]); // the product moves out
      assert(!made[1].isDisposed, "the product moved to the outer scope");
    });
    assert(!outside.isDisposed, "the outer scope did not free a tensor it never owned");
    assert(made[1].isDisposed, "the outer scope freed the product it received");
  } finally {
    outside.dispose();
  }
});

Deno.test("scope: a kept tensor returned from a scope is not freed by the parent", () => {
  let kept = null as ReturnType<typeof torch.randn> | null;
  torch.scope(() => {
    kept = torch.scope(() => torch.keep(torch.randn([2])));
  });
  assert(kept !== null && !kept.isDisposed, "keep() outlives both scopes");
  kept.dispose();
});
