/**
 * Linear classifiers on tfjs, the fast path for features: a one-vs-rest linear SVM with the squared hinge loss
 * (the L2-loss SVM of liblinear, which DeCAF and Razavian et al. train on CNN features) and softmax (multinomial
 * logistic) regression, both full-batch or mini-batch with Adam, L2 regularisation and class weights.
 *
 * @module
 */
export { checkSaved as checkSavedClassifier } from './linear-base.js';
export type { LinearSvmOptions, LinearTrainingOptions, SoftmaxRegressionOptions } from './linear-options.js';
export { LinearSvm } from './linear-svm.js';
export { SoftmaxRegression } from './softmax-regression.js';
