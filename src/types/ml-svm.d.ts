/**
 * Types for `ml-svm` 2.1 (CommonJS, ships none): a two-class SVM trained by simplified SMO, labels +1 / -1.
 * Only what transferkit's adapter uses is declared.
 */
declare module 'ml-svm' {
  namespace SVM {
    interface SVMOptions {
      /** Regularisation parameter. @default 1 */
      C?: number;
      /** Numerical tolerance. @default 1e-4 */
      tol?: number;
      /** Passes over the alphas without change before stopping. @default 10 */
      maxPasses?: number;
      /** Iterations before it throws 'max iterations reached'. @default 10000 */
      maxIterations?: number;
      /** Kernel name of ml-kernel ('linear', 'rbf', 'polynomial', ...). @default 'linear' */
      kernel?: string;
      /** Kernel parameters (e.g. `{ sigma }` for rbf, `{ degree, constant, scale }` for polynomial). */
      kernelOptions?: Record<string, number>;
      /** Threshold on alpha for support vectors. @default 1e-6 */
      alphaTol?: number;
      /** Random source in [0, 1). @default Math.random */
      random?: () => number;
      /** Min-max scaling of each feature before training. @default true */
      whitening?: boolean;
    }

    interface SVMModel {
      options: SVMOptions;
      b: number;
      W?: number[];
      X?: number[][];
      Y?: number[];
      alphas?: number[];
      minMax?: { min: number; max: number }[];
    }
  }

  class SVM {
    constructor(options?: SVM.SVMOptions);
    train(features: number[][], labels: number[]): void;
    predict(features: number[][]): number[];
    margin(features: number[][]): number[];
    supportVectors(): number[];
    toJSON(): SVM.SVMModel;
    static load(model: SVM.SVMModel): SVM;
  }

  export = SVM;
}
