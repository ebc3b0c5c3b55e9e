/**
 * Specialist ensembles (Hinton, Vinyals & Dean 2015, section 5): confusable-class clustering, enriched specialist
 * data with a dustbin class, specialists copied from the generalist, and the KL combination at inference.
 *
 * @module
 */
export * from './clustering.js';
export * from './combine.js';
export * from './distill.js';
export * from './ensemble.js';
export * from './sampling.js';
export * from './specialist.js';
