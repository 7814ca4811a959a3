# shellcheck shell=bash disable=SC2034
# Corpus locations (Kaldi's db.sh), sourced by every recipe.  Set them here or in the
# environment; each recipe also takes --corpus-dir.  What each folder must contain:
IEMOCAP=${IEMOCAP:-}            # IEMOCAP_full_release: Session1 .. Session5/
EMODB=${EMODB:-}                # unzipped EmoDB download.zip: wav/ (+ erkennung.txt)
THAI_SER=${THAI_SER:-}          # THAI SER v1: emotion_label.json, actor_demography.json, studio*/ zoom*/
EMOBOX=${EMOBOX:-}              # EmoBox checkout: data/<dataset>/
EMOBOX_AUDIO=${EMOBOX_AUDIO:-}  # folder holding EmoBox's downloads/ (default: $EMOBOX)
RAVDESS=${RAVDESS:-}            # RAVDESS speech: Actor_01 .. Actor_24/ (wav or flac)
