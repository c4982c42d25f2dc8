/**
 * Small structural checks for messages that cross the webview boundary. Webviews cannot run ajv (its compiled
 * validators need `eval`, which their CSP forbids), and these messages are small, so each is checked by hand.
 */

export type Guard<T> = (value: unknown) => value is T;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export const isString: Guard<string> = (value): value is string => typeof value === 'string';

export const isNonEmptyString: Guard<string> = (value): value is string => typeof value === 'string' && value.length > 0;

export const isFiniteNumber: Guard<number> = (value): value is number => typeof value === 'number' && Number.isFinite(value);

export const isBoolean: Guard<boolean> = (value): value is boolean => typeof value === 'boolean';

export function nullable<T>(guard: Guard<T>): Guard<T | null> {
  return (value): value is T | null => value === null || guard(value);
}

export function arrayOf<T>(guard: Guard<T>, maxLength = Number.POSITIVE_INFINITY): Guard<T[]> {
  return (value): value is T[] => Array.isArray(value) && value.length <= maxLength && value.every((item) => guard(item));
}

export function oneOf<T extends string>(values: readonly T[]): Guard<T> {
  return (value): value is T => typeof value === 'string' && (values as readonly string[]).includes(value);
}

/** A metric map: names to finite numbers or null (JSON has no NaN). */
export const isMetricValues: Guard<Record<string, number | null>> = (value): value is Record<string, number | null> =>
  isRecord(value) && Object.values(value).every((v) => v === null || isFiniteNumber(v));

/** Checks that `value` is a record whose listed fields pass their guards; other fields are allowed. */
export function hasFields<T>(value: unknown, fields: { [K in keyof T]: Guard<T[K]> }): value is T {
  if (!isRecord(value)) return false;
  for (const key of Object.keys(fields) as (keyof T & string)[]) {
    if (!fields[key](value[key])) return false;
  }
  return true;
}
