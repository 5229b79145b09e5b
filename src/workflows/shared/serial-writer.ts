// One projection write at a time, in the order asked: a workflow's Update handlers and its main
// loop both write, and a MongoDB-wire server without atomic updates (FerretDB) would otherwise let
// an older write win. Each write computes what it sends when its turn comes, so it carries
// everything that changed up to then. A failed write does not stop the ones after it.
export function serialWriter(): <T>(write: () => Promise<T>) => Promise<T> {
  let writing: Promise<unknown> = Promise.resolve();
  return (write) => {
    const next = writing.then(write);
    writing = next.catch(() => undefined);
    return next;
  };
}
