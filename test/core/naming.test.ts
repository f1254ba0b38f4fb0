import { executionName } from '../../core/runs/naming';

describe('executionName', () => {
  const commit = '0123456789abcdef0123456789abcdef01234567';

  it('reads as pipeline, short commit and a digest of the event id (FNV-1a, checked independently)', () => {
    expect(executionName('web', commit, 'evt-1')).toBe('web-0123456789ab-b2c6a304');
  });

  it('is the same for a redelivered event and new for a new event of the same commit', () => {
    expect(executionName('web', commit, 'evt-1')).toBe(executionName('web', commit, 'evt-1'));
    expect(executionName('web', commit, 'evt-2')).not.toBe(executionName('web', commit, 'evt-1'));
  });

  it('stays within the 80 characters Step Functions allows', () => {
    expect(executionName('a'.repeat(32), commit, 'x'.repeat(500)).length).toBeLessThanOrEqual(80);
    expect(() => executionName('p'.repeat(70), commit, 'e')).toThrow('cannot derive a valid execution name');
  });
});
