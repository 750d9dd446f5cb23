/**
 * The pure codec: bytes ⇄ records ⇄ requests, and judging them. No I/O, no timers, no clock.
 * @see FastCGI Specification §3 – §6
 */
export * from './record.ts';
export * from './framer.ts';
export * from './bodies.ts';
export * from './name-value.ts';
export * from './stream-assembler.ts';
export * from './validate.ts';
export * from './describe.ts';
