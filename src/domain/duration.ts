/** Durations in configuration are written like `14d`, `36h`, `90s` or `250ms`. */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;

export const DAY_MS = UNIT_MS.d;

export function parseDuration(text: string): number {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration (use e.g. 14d, 36h, 90s, 250ms)`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
