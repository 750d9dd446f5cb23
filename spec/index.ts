/** The spec package: protocol constants, the shape of a requirement, and the requirement catalog. */
export * from './constants.ts';
export type * from './requirement.ts';
export * from './requirements.ts';
