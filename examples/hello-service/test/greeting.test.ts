import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkName, greeting, resolveVersion, respond } from '../src/greeting';

describe('checkName', () => {
  it('accepts letters, digits, spaces and hyphens', () => {
    assert.deepEqual(checkName('Ada Lovelace-2'), { ok: true, name: 'Ada Lovelace-2' });
  });

  it('accepts letters of any script', () => {
    assert.deepEqual(checkName('Zoë Żółć'), { ok: true, name: 'Zoë Żółć' });
  });

  it('accepts exactly 1 and exactly 64 characters', () => {
    assert.equal(checkName('A').ok, true);
    assert.equal(checkName('a'.repeat(64)).ok, true);
  });

  it('rejects a missing name', () => {
    assert.deepEqual(checkName(undefined), { ok: false, error: "query parameter 'name' is required" });
  });

  it('rejects an empty name', () => {
    assert.deepEqual(checkName(''), {
      ok: false,
      error: "query parameter 'name' must be 1-64 characters long, got 0",
    });
  });

  it('rejects 65 characters', () => {
    assert.deepEqual(checkName('a'.repeat(65)), {
      ok: false,
      error: "query parameter 'name' must be 1-64 characters long, got 65",
    });
  });

  it('counts code points, not UTF-16 units', () => {
    // 'ő' is one code point and one UTF-16 unit; '𝒜' (U+1D49C) is one code point but two units.
    assert.equal(checkName('𝒜'.repeat(64)).ok, true);
    assert.equal(checkName('𝒜'.repeat(65)).ok, false);
  });

  it('names the first forbidden character and its position', () => {
    assert.deepEqual(checkName('Bob!'), {
      ok: false,
      error: `query parameter 'name' may contain only letters, digits, spaces and '-': found "!" at position 4`,
    });
    assert.deepEqual(checkName('<script>'), {
      ok: false,
      error: `query parameter 'name' may contain only letters, digits, spaces and '-': found "<" at position 1`,
    });
  });

  it('rejects the comma API Gateway uses to join repeated parameters', () => {
    assert.equal(checkName('a,b').ok, false);
  });
});

describe('greeting', () => {
  it('greets by name', () => {
    assert.equal(greeting('World'), 'Hello, World!');
  });
});

describe('resolveVersion', () => {
  it('uses APP_VERSION when set', () => {
    assert.equal(resolveVersion('1.2.3'), '1.2.3');
  });

  it('defaults to "dev" when unset or empty', () => {
    assert.equal(resolveVersion(undefined), 'dev');
    assert.equal(resolveVersion(''), 'dev');
  });
});

describe('respond', () => {
  it('greets on GET /hello with a valid name', () => {
    assert.deepEqual(respond({ method: 'GET', path: '/hello', name: 'Ada', version: '7' }), {
      statusCode: 200,
      body: { message: 'Hello, Ada!', version: '7' },
    });
  });

  it('is a 400 with the validation error for a bad name', () => {
    const res = respond({ method: 'GET', path: '/hello', name: 'x'.repeat(100), version: '7' });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.body, { error: "query parameter 'name' must be 1-64 characters long, got 100" });
  });

  it('is a 404 for another path or another method', () => {
    assert.deepEqual(respond({ method: 'GET', path: '/bye', name: 'Ada', version: '7' }), {
      statusCode: 404,
      body: { error: 'no route for GET /bye' },
    });
    assert.equal(respond({ method: 'POST', path: '/hello', name: 'Ada', version: '7' }).statusCode, 404);
    assert.equal(respond({ method: 'GET', path: '/hello/', name: 'Ada', version: '7' }).statusCode, 404);
  });
});
