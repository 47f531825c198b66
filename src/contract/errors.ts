import type { z } from 'zod';

/** Turns zod issues into one line per bad field: `analysis.confidence: Too big: expected number to be <=1`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Input that failed validation; `fields` names every bad field. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  readonly fields: string[];

  constructor(what: string, error: z.ZodError) {
    super(`invalid ${what}: ${describeIssues(error)}`, { cause: error });
    this.fields = error.issues.map((issue) => issue.path.join('.'));
  }
}

/** Parses `input` with `schema`, throwing a ValidationError that names the bad fields. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(what, result.error);
  return result.data;
}
