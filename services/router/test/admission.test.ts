import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, FslmError } from '../../shared/errors.ts';
import { Admission } from '../src/admission.ts';

describe('admission', { timeout: 10_000 }, () => {
  test('beyond the bound, RESOURCE_EXHAUSTED at once; a released slot (released once) is free again', () => {
    const admission = new Admission(2);
    const a = admission.acquire();
    admission.acquire();
    assert.throws(() => admission.acquire(), (e) => e instanceof FslmError && e.code === ErrorCode.ResourceExhausted);
    a();
    a();
    assert.equal(admission.inFlight, 1);
    admission.acquire();
    assert.equal(admission.inFlight, 2);
  });
});
