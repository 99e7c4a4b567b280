import type { Attachment } from '../../api/types.js';
import { lang, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatBytes } from './homework.state.js';

/** A file to download (an entry's, a news item's): its name and size, in a list of files. */
export function AttachmentLink({ file }: { file: Pick<Attachment, 'fileName' | 'sizeBytes' | 'url'> }) {
  const t = useT();
  const current = useValue(lang);
  return (
    <li>
      <a href={file.url} download={file.fileName}>
        {t('homework.download', { name: file.fileName })}
      </a>{' '}
      <span class="slot-meta">({formatBytes(file.sizeBytes, current)})</span>
    </li>
  );
}
