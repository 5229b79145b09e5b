// The steps of the versioning test's workflow; each answers its own name.
export const prepare = async () => 'prepare';
export const render = async () => 'render';
export const renderWithLinks = async () => 'renderWithLinks';
export const finish = async () => 'finish';
