export * from './decisions';
export * from './duration';
export * from './errors';
export * from './integration-config';
export * from './integration-state';
export * from './privacy-request';
export * from './request';
export * from './request-view';
