// Skips that are refused in CI: a test that cannot find what it needs may skip on a developer's machine,
// with its reason shown, but under CI=true (as CI services and .ci/run set it) it fails instead, so a
// CI run never passes without running every test. scripts/test also fails a CI run that reports skips.

/** True when the CI environment variable is set to anything but "", "0" or "false". */
export const IN_CI = !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase());

/**
 * The `skip` option for tests that need something that may be missing: `reason` (a string: skip, saying
 * why) or `false` (run). Under CI a reason throws instead, which fails the test file that asked.
 * @throws Error naming the reason when `reason` is a string and CI is set.
 */
export function skipOutsideCi(reason: string | false): string | false {
  if (reason && IN_CI) throw new Error(`refusing to skip under CI=${process.env.CI}: ${reason}`);
  return reason;
}
