/** Where the shared corpora live (beside the checkout): the same places the corpus tests read (test/helpers/corpus.ts). */
export { communityDir, etDir, hasCorpus, ruleFilesIn, sharedDir } from '../../test/helpers/corpus.js';
