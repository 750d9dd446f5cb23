import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkAvailability, peerAvailable, peersRequired, requireAvailable } from './availability.ts';
import { peers, type PeerName } from './registry.ts';

// The list .ci/run installs: one package a line, '#' starts a comment.
function packageList(): string[] {
  const text = readFileSync(new URL('./packages.txt', import.meta.url), 'utf8');
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
}

describe('the peer registry', () => {
  it.each(Object.keys(peers) as PeerName[])('%s: its packages are in packages.txt, which CI installs', (name) => {
    expect(packageList()).toEqual(expect.arrayContaining([...peers[name].packages]));
  });

  it.each(Object.keys(peers) as PeerName[])('%s: names what it requires by absolute path', (name) => {
    expect(peers[name].requires.length).toBeGreaterThan(0);
    for (const path of peers[name].requires) expect(path).toMatch(/^\//);
  });

  it('packages.txt holds one package name a line', () => {
    for (const pkg of packageList()) expect(pkg).toMatch(/^[a-z0-9][a-z0-9+.-]+$/);
  });
});

describe('availability', () => {
  it('reports a missing file with an apt-get hint naming the packages', () => {
    const status = checkAvailability('imaginary', { requires: ['/bin/sh', '/nonexistent/imaginary-fcgi'], packages: ['imaginary-fcgi', 'imaginary-doc'] });
    expect(status).toEqual({
      available: false,
      missing: ['/nonexistent/imaginary-fcgi'],
      hint: 'missing imaginary: apt-get install -y imaginary-fcgi imaginary-doc',
    });
  });

  it('reports a peer whose files are all there as available', () => {
    expect(checkAvailability('shell', { requires: ['/bin/sh'], packages: ['dash'] })).toEqual({ available: true });
  });

  it('answers for every registered peer', () => {
    for (const name of Object.keys(peers) as PeerName[]) expect(typeof peerAvailable(name).available).toBe('boolean');
  });
});

describe('requireAvailable', () => {
  const missing = { available: false, missing: ['/x'], hint: 'missing x: apt-get install -y x' } as const;
  const skipper = () => {
    const notes: (string | undefined)[] = [];
    return {
      notes,
      ctx: {
        skip: (note?: string): never => {
          notes.push(note);
          throw new Error('skipped');
        },
      },
    };
  };

  it('fails with the hint when FCGISPEC_REQUIRE_PEERS is set', () => {
    const { ctx, notes } = skipper();
    expect(() => requireAvailable(missing, ctx, { FCGISPEC_REQUIRE_PEERS: '1' })).toThrow('missing x: apt-get install -y x (FCGISPEC_REQUIRE_PEERS is set)');
    expect(notes).toEqual([]);
  });

  it('skips with the hint when it is not set', () => {
    const { ctx, notes } = skipper();
    expect(() => requireAvailable(missing, ctx, {})).toThrow('skipped');
    expect(notes).toEqual(['missing x: apt-get install -y x']);
    expect(requireAvailable(missing, undefined, {})).toBe(false);
  });

  it('passes an available peer whatever the variable says', () => {
    const { ctx, notes } = skipper();
    expect(requireAvailable({ available: true }, ctx, { FCGISPEC_REQUIRE_PEERS: '1' })).toBe(true);
    expect(notes).toEqual([]);
  });

  it.each([
    ['1', true],
    ['yes', true],
    ['', false],
    ['0', false],
    ['false', false],
  ])('FCGISPEC_REQUIRE_PEERS=%j means required: %s', (value, expected) => {
    expect(peersRequired({ FCGISPEC_REQUIRE_PEERS: value })).toBe(expected);
  });
});
