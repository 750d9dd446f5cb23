/**
 * Element ids of report pages, shared by the HTML writer and the matrix so links between them agree.
 * Injective: every character outside `[A-Za-z0-9.-]` is written as `_<hex>_`, so two ids never collide.
 */
function slug(id: string): string {
  return id.replace(/[^A-Za-z0-9.-]/gu, (c) => `_${c.codePointAt(0)!.toString(16)}_`);
}

/** Id of a scenario's `<details>` element in the HTML report. */
export function scenarioAnchor(scenarioId: string): string {
  return `scenario-${slug(scenarioId)}`;
}

/** Id of a requirement's row in the HTML report. */
export function requirementAnchor(requirementId: string): string {
  return `req-${slug(requirementId)}`;
}
