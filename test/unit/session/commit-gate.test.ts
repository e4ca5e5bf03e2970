import { describe, expect, it } from 'vitest';
import { delivered } from '../../../src/outcome/outcome.js';
import { CommitGate } from '../../../src/session/session.js';

describe('CommitGate: no commit starts after the deadline or a signal; a started one runs to its end', () => {
  it('enter() is refused once the signal has fired, and a commit already in progress keeps the gate busy', async () => {
    const ctl = new AbortController();
    const gate = new CommitGate(ctl.signal);
    expect(gate.busy).toBe(false);
    expect(gate.enter()).toBe(true);
    ctl.abort(new Error('deadline'));
    expect(gate.enter()).toBe(false);
    expect(gate.busy).toBe(true);
    let idle = false;
    const waiting = gate.idle().then(() => (idle = true));
    await Promise.resolve();
    expect(idle).toBe(false);
    gate.leave();
    await waiting;
    expect(gate.busy).toBe(false);
  });

  it('remembers what was stored, per recipient, so an early exit still reports it', () => {
    const gate = new CommitGate(new AbortController().signal);
    expect(gate.storedFor('bob')).toBeUndefined();
    gate.stored('bob', delivered('INBOX', '/m/new/x'));
    expect(gate.storedFor('bob')).toEqual(delivered('INBOX', '/m/new/x'));
    expect(gate.storedFor('alice')).toBeUndefined();
  });

  it('two gates never see each other (one per session)', () => {
    const a = new CommitGate(new AbortController().signal);
    const b = new CommitGate(new AbortController().signal);
    a.enter();
    a.stored('bob', delivered('INBOX', 'x'));
    expect(b.busy).toBe(false);
    expect(b.storedFor('bob')).toBeUndefined();
  });
});
